"""``onesearch data ...`` through the real entry point: exit codes, one-line errors, artifacts."""

from __future__ import annotations

import json

import pytest

from onesearch.artifacts import read_manifest
from onesearch.catalog.store import load_prepared


def test_list_shows_every_data_set(shared_data, cli):
    code, out, _ = cli(["data", "list", "--data", str(shared_data)])
    assert code == 0
    for name in ("homedepot", "instacart", "amazon-office", "kuaisearch", "multicpr", "generic"):
        assert name in out


@pytest.mark.slow
def test_inspect_homedepot_reports_the_catalog(shared_data, cli):
    code, out, _ = cli(["data", "inspect", "homedepot", "--data", str(shared_data), "--json"])
    summary = json.loads(out)
    assert code == 0 and summary["rows"]["items"] == 54_667
    assert summary["labels"]["per_split"]["test"]["examples"] == 943


def test_prepare_writes_a_loadable_artifact(tmp_path, cli):
    source = tmp_path / "shop"
    source.mkdir()
    (source / "items.csv").write_text("item_id,title\na,Red shoe\nb,Blue shoe\n")
    (source / "interactions.csv").write_text("user_id,type,item_id,query,time\nu,click,a,shoe,1\nu,order,b,shoe,2\n")
    code, out, _ = cli(["data", "prepare", "generic", "--source", str(source), "--out", str(tmp_path / "out")])
    assert code == 0 and "prepared generic" in out
    manifest = read_manifest(tmp_path / "out", kind="prepared-data")
    assert set(manifest["inputs"]) == {"items.csv", "interactions.csv"} and manifest["rows"]["items"] == 2
    assert load_prepared(tmp_path / "out").items["title"].to_pylist() == ["Red shoe", "Blue shoe"]


def test_failed_prepare_leaves_no_output_and_keeps_the_old(tmp_path, cli):
    source = tmp_path / "shop"
    source.mkdir()
    (source / "items.csv").write_text("item_id,title\na,x\na,y\n")
    out = tmp_path / "out"
    code, _, err = cli(["data", "prepare", "generic", "--source", str(source), "--out", str(out)])
    assert code == 2 and err == f"error: {source / 'items.csv'}: row 2: duplicate item_id 'a'\n"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["shop"]
    out.mkdir()
    (out / "keep.txt").write_text("old")
    cli(["data", "prepare", "generic", "--source", str(source), "--out", str(out)])
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_unknown_name_is_one_line_exit_2(shared_data, cli):
    code, _, err = cli(["data", "inspect", "nope", "--data", str(shared_data)])
    assert code == 2 and err.startswith("error: unknown data set 'nope'") and err.count("\n") == 1


def test_usage_error_is_not_a_traceback(cli):
    code, _, err = cli(["data", "prepare", "homedepot"])
    assert code == 2 and "Missing option '--out'" in err and "Traceback" not in err
