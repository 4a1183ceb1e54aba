"""``onesearch index build | stats | encode`` on the tiny generic shop."""

from __future__ import annotations

import json

import pytest

from onesearch.semantic_ids.codebook import SemanticIdCodebook


def test_build_stats_and_encode(tiny_shop, tmp_path, cli):
    out = tmp_path / "sid"
    argv = ["index", "build", "--task", "generic", "--source", str(tiny_shop), "--out", str(out), "--cache", str(tmp_path / "cache"),
            "--encoder", "minilm", "--levels", "16,4,4", "--balanced", "--opq", "0"]
    code, stdout, err = cli(argv)
    assert code == 0, err
    quality = json.loads(stdout)
    assert set(quality["cur"]) == {"cur@1", "cur@2", "cur@3"}
    assert 0 < quality["icr"] <= 1 and quality["purity_leaf@1"] is not None
    codebook = SemanticIdCodebook.load(out)
    assert len({codebook.full_id(i) for i in codebook.item_ids}) == len(codebook.item_ids) == 192
    keywords = json.loads((out / "keywords.json").read_text())
    assert {"text": "acme", "type": "brand"}.items() <= next(k for k in keywords if k["text"] == "acme").items()
    code, stdout, _ = cli(["index", "stats", str(out)])
    stats = json.loads(stdout)
    assert code == 0 and stats["items"] == 192 and len(stats["codes"]["top_value_share"]) == 3 and stats["codes"]["icr"] == quality["icr"]
    code, stdout, _ = cli(["index", "compare", str(out)])
    header, rule, row = stdout.strip().splitlines()
    assert code == 0 and header.startswith("| codebook | levels |") and row.startswith("| sid | 16-4-4 | yes | yes | no |")
    code, stdout, _ = cli(["index", "encode", str(out), "--text", "red wool scarf"])
    row = json.loads(stdout)
    assert code == 0 and len(row["code"]) == 3 and "scarf" in row["keywords"]


def test_with_no_shape_options_the_codebook_is_sized_to_the_catalog_like_the_models(tiny_shop, tmp_path, cli):
    out = tmp_path / "sid"
    code, stdout, err = cli(["index", "build", "--task", "generic", "--source", str(tiny_shop), "--out", str(out), "--cache", str(tmp_path / "cache"), "--encoder", "minilm"])
    assert code == 0, err
    config = json.loads((out / "manifest.json").read_text())["config"]
    # 192 items: 2 ** round(log2(sqrt(192) / 2)) = 8 coarse codes, 2 ** round(log2(192 / 8 / 16)) = 2 below, no OPQ under 1,000 items
    assert (config["levels"], config["balanced_last"], config["opq_subcodes"]) == ([8, 2], False, 0)
    shares = json.loads(stdout)["top_value_share"]  # Home Depot's default codebook: at most 0.06 per position (docs/method.md)
    assert len(shares) == 2 and shares[0] <= 0.5


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--levels", "8,x"], "--levels must be positive integers"), (["--encoder", "minilm", "--opq", "2"], "OPQ needs at least 384 training vectors")],
)
def test_bad_options_give_one_line_and_leave_nothing(tiny_shop, tmp_path, cli, options, message):
    out = tmp_path / "sid"
    argv = ["index", "build", "--task", "generic", "--source", str(tiny_shop), "--out", str(out), "--cache", str(tmp_path / "cache"), *options]
    code, _, err = cli(argv)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and message in errors[0] and not out.exists()
