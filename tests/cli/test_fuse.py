"""``onesearch fuse``: the RRF weight is chosen on one report's split and applied to another's;
every example of the scored split counts; a damaged run file is one located error."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def reports(tiny_shop_module, tmp_path_factory, cli_module):
    tmp = tmp_path_factory.mktemp("fuse")
    common = ["--task", "generic", "--source", str(tiny_shop_module), "--encoder", "minilm", "--cache", str(tmp / "cache"),
              "--searcher", "bm25", "--searcher", "dense"]
    for split in ("valid", "test"):
        code, _, err = cli_module(["eval", *common, "--split", split, "--out", str(tmp / split)])
        assert code == 0, err
    return tmp


def test_the_weight_is_tuned_on_valid_and_scored_on_test(reports, tiny_shop_module, cli):
    out = reports / "fused"
    code, table, err = cli(["fuse", "--task", "generic", "--source", str(tiny_shop_module), "--tune", str(reports / "valid"),
                            "--apply", str(reports / "test"), "--weighted", "dense", "--base", "bm25", "--out", str(out)])
    assert code == 0, err
    result = json.loads((out / "metrics.json").read_text())
    fusion = result["fusion"]
    grid = {float(w): v for w, v in fusion["grid"].items()}
    assert grid[fusion["chosen"]] == max(grid.values())
    name = f"dense+bm25@{fusion['chosen']:g}"
    assert list(result["searchers"]) == ["bm25", "dense", name] and name in table
    tested = json.loads((reports / "test" / "metrics.json").read_text())
    assert result["examples"] == tested["examples"]
    assert result["searchers"]["bm25"]["metrics"]["ndcg@10"] == pytest.approx(tested["searchers"]["bm25"]["metrics"]["ndcg@10"])


def test_a_damaged_run_file_is_one_located_error(reports, tiny_shop_module, cli, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metrics.json").write_text((reports / "test" / "metrics.json").read_text())
    (broken / "run.trec").write_text("q1 Q0 i1 1 0.5 bm25\nq1 Q0 i2 two\n")
    code, _, err = cli(["fuse", "--task", "generic", "--source", str(tiny_shop_module), "--tune", str(reports / "valid"),
                        "--apply", str(broken), "--weighted", "dense", "--base", "bm25", "--out", str(tmp_path / "out")])
    assert code == 2 and "run.trec: row 2: expected 6 fields" in err
