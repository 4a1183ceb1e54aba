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


def _planted(load):
    """``registry.load`` with the first test example copied into train (a planted leak)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def loaded(*args, **kwargs):
        dataset = load(*args, **kwargs)
        test = dataset.examples.filter(pc.equal(dataset.examples["split"], "test")).slice(0, 1)
        row = {**test.to_pylist()[0], "example_id": "planted", "split": "train"}
        dataset.examples = pa.concat_tables([dataset.examples, pa.Table.from_pylist([row], schema=dataset.examples.schema)])
        return dataset

    return loaded


def test_a_planted_leak_stops_the_eval_with_one_line(tiny_shop, tmp_path, cli, monkeypatch):
    from onesearch.catalog import registry

    monkeypatch.setattr(registry, "load", _planted(registry.load))
    out = tmp_path / "report"
    argv = ["eval", "--task", "generic", "--source", str(tiny_shop), "--split", "test", "--searcher", "popularity",
            "--out", str(out), "--cache", str(tmp_path / "cache")]
    code, _, err = cli(argv)
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "1 verbatim" in lines[0] and "--allow-leaks" in lines[0]
    assert not out.exists()
    code, _, _ = cli([*argv, "--allow-leaks"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["leakage"]["verbatim"] == 1 and metrics["leakage"]["allowed"]
    assert "LEAKY RUN" in (out / "report.md").read_text()


def test_the_audit_is_stored_and_the_recommenders_run(tiny_shop, tmp_path, cli):
    out = tmp_path / "report"
    code, stdout, _ = cli(["eval", "--task", "generic", "--source", str(tiny_shop), "--split", "valid", "--searcher", "popularity",
                           "--searcher", "next-item", "--out", str(out), "--cache", str(tmp_path / "cache")])
    assert code == 0, stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["leakage"]["leaks"] == 0 and metrics["leakage"]["evaluated"] == metrics["examples"]
    assert set(metrics["searchers"]) == {"popularity", "next-item"} and "map@5" in metrics["searchers"]["popularity"]["metrics"]
    assert "Leakage audit of" in (out / "report.md").read_text()


def test_a_task_without_queries_evaluates_with_the_shipped_encoder(tiny_shop, tmp_path, cli, monkeypatch):
    import pyarrow as pa

    from onesearch.catalog import registry

    load = registry.load

    def without_queries(*args, **kwargs):
        dataset = load(*args, **kwargs)
        column = dataset.examples.schema.get_field_index("query")
        dataset.examples = dataset.examples.set_column(column, dataset.examples.schema.field(column), pa.nulls(dataset.examples.num_rows, pa.string()))
        return dataset

    monkeypatch.setattr(registry, "load", without_queries)
    out = tmp_path / "report"
    code, _, err = cli(["eval", "--task", "generic", "--source", str(tiny_shop), "--split", "test", "--searcher", "dense",
                        "--out", str(out), "--cache", str(tmp_path / "cache"), "--limit", "10"])
    assert code == 0 and "using the shipped minilm encoder" in " ".join(err.split()) and (out / "metrics.json").is_file()
