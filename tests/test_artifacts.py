import json

import pytest

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.errors import DataError


def test_atomic_directory_writes_whole(tmp_path):
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("x")
    assert (tmp_path / "out" / "a.txt").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_leaves_nothing_and_keeps_the_old_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as tmp:
            (tmp / "new.txt").write_text("half")
            raise RuntimeError("boom")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_success_replaces_the_old_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_directory(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]


def test_manifest_round_trip_and_checks(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"abc")
    write_manifest(tmp_path, "thing", {"k": 1}, {"in": source})
    manifest = read_manifest(tmp_path, kind="thing")
    # sha256("abc"), the standard test vector
    assert manifest["inputs"]["in"]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert manifest["config"] == {"k": 1}
    with pytest.raises(DataError, match="kind is 'thing', expected 'other'"):
        read_manifest(tmp_path, kind="other")
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "thing", "format_version": 99}))
    with pytest.raises(DataError, match="newer"):
        read_manifest(tmp_path)
    with pytest.raises(DataError, match="no manifest.json"):
        read_manifest(tmp_path / "missing")
