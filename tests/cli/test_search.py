"""``onesearch search``: one query (and a user's behaviour) through a trained model folder; a
folder of the retired first design is refused in one line."""

from __future__ import annotations

import json
import shutil

from onesearch.errors import DataError
from onesearch.generative.folder import PlannedModel


def _options(anchored_trained) -> tuple[str, list[str]]:
    _, common, model, _ = anchored_trained
    return str(model), ["--task", "generic", "--source", common[common.index("--source") + 1]]


def test_search_prints_ranked_catalog_items_with_titles_and_reads_behaviour(anchored_trained, cli_module):
    model, catalog = _options(anchored_trained)
    code, stdout, err = cli_module(["search", "red boots", "--model", model, "--k", "5", "--event", "order:i3", *catalog])
    assert code == 0, err
    hits = [json.loads(line) for line in stdout.strip().splitlines()]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5] and all(h["item_id"] in {f"i{n}" for n in range(192)} and h["title"] for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_a_missing_catalog_or_a_bad_event_is_one_line(anchored_trained, cli_module):
    model, catalog = _options(anchored_trained)
    code, _, err = cli_module(["search", "red boots", "--model", model])
    assert code == 2 and "--task" in err and "Traceback" not in err
    code, _, err = cli_module(["search", "red boots", "--model", model, "--event", "bought:i3", *catalog])
    assert code == 2 and "--event" in err and "Traceback" not in err


def test_a_folder_of_the_retired_first_design_is_refused_in_one_line(anchored_trained, cli_module, tmp_path):
    model, catalog = _options(anchored_trained)
    old = tmp_path / "decoder"
    shutil.copytree(model, old)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "kind": "generative-decoder"}))
    code, _, err = cli_module(["search", "red boots", "--model", str(old), *catalog])
    assert code == 2 and "first design" in err and "onesearch train --task" in err and "Traceback" not in err
    try:
        PlannedModel(old)
    except DataError as error:
        assert "retired" in str(error)
    else:
        raise AssertionError("an old model folder was loaded")
