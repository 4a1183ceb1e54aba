"""``onesearch eval`` end to end on the tiny generic shop: report files, errors, nothing half-written."""

from __future__ import annotations

import json

import pytest


def test_eval_writes_the_report_and_reuses_the_cache(tiny_shop, tmp_path, cli):
    out = tmp_path / "report"
    argv = ["eval", "--task", "generic", "--source", str(tiny_shop), "--split", "test", "--searcher", "bm25",
            "--searcher", "cascade", "--encoder", "minilm", "--out", str(out), "--cache", str(tmp_path / "cache"), "--limit", "20"]
    code, stdout, _ = cli(argv)
    assert code == 0, stdout
    assert {p.name for p in out.iterdir()} == {"metrics.json", "run.trec", "report.md", "recall_at_k.png", "latency.png"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["examples"] == 20 and set(metrics["searchers"]) == {"bm25", "cascade"}
    assert metrics["comparisons"][0]["baseline"] == "bm25" and metrics["comparisons"][0]["searcher"] == "cascade"
    assert "| cascade |" in stdout
    code, _, err = cli(argv)
    assert code == 0 and "indexing" not in err and "LTR" not in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--searcher", "magic", "unknown searcher 'magic'"), ("--split", "dev", "unknown split 'dev'"), ("--encoder", "gpt", "unknown encoder 'gpt'")],
)
def test_bad_options_give_one_line_and_leave_nothing(tiny_shop, tmp_path, cli, option, value, message):
    out = tmp_path / "report"
    argv = ["eval", "--task", "generic", "--source", str(tiny_shop), "--out", str(out), "--cache", str(tmp_path / "cache"), "--searcher", "bm25"]
    argv = [a for a in argv] + [option, value] if option != "--searcher" else argv[:-2] + [option, value]
    code, _, err = cli(argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
