"""``ServiceState``: changes applied to the bundle's catalog, stored atomically, bad files one line."""

from __future__ import annotations

import pyarrow as pa
import pytest

from onesearch.catalog.schema import ITEMS, build_table
from onesearch.deploy.state import ServiceState, previous_generation
from onesearch.errors import DataError


def _items() -> pa.Table:
    return build_table(ITEMS, {"item_id": ["a", "b", "c"], "title": ["apple", "banana", "cherry"], "price": [1.0, 2.0, 3.0]})


def test_split_drops_deleted_and_replaces_upserted_rows(tmp_path):
    state = ServiceState(tmp_path / "s.json").changed(
        upserts=[{"item_id": "b", "title": "blue banana", "attributes": {"colour": "blue"}, "in_stock": False}, {"item_id": "d", "title": "date"}],
        deleted=["a"],
    )
    served = _served(state)
    assert served.schema == ITEMS
    assert served["item_id"].to_pylist() == ["c", "b", "d"]
    assert served["title"].to_pylist() == ["cherry", "blue banana", "date"]
    assert served["attributes"].to_pylist()[1] == [("colour", "blue")]
    assert not state.in_stock("b") and state.in_stock("c")


def test_a_later_upsert_undeletes_and_a_later_delete_wins():
    state = ServiceState().changed(deleted=["a"]).changed(upserts=[{"item_id": "a", "title": "apricot"}])
    assert _served(state)["title"].to_pylist()[-1] == "apricot"
    assert "a" not in _served(state.changed(deleted=["a"]))["item_id"].to_pylist()


def test_saved_state_round_trips_and_changed_leaves_the_original(tmp_path):
    path = tmp_path / "deep" / "s.json"
    original = ServiceState.load(path)
    changed = original.changed(upserts=[{"item_id": "x", "title": "xigua"}], deleted=["a"], model="m1")
    changed.save()
    assert original.upserts == {} and original.deleted == set()
    again = ServiceState.load(path)
    assert (again.upserts, again.deleted, again.model) == (changed.upserts, {"a"}, "m1")
    assert [p.name for p in path.parent.iterdir()] == ["s.json"]


@pytest.mark.parametrize("content", ["{", '{"format": 9}', '{"format": 1}', "[]"])
def test_a_bad_state_file_is_one_located_error(tmp_path, content):
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(DataError, match="unreadable service state") as error:
        ServiceState.load(path)
    assert str(path) in str(error.value)


def test_the_state_it_replaces_is_kept_as_the_previous_generation(tmp_path):
    path = tmp_path / "s.json"
    first = ServiceState(path).changed(deleted=["a"])
    first.save()
    second = first.changed(deleted=["b"])
    second.save()
    assert ServiceState.load(previous_generation(path)).deleted == {"a"}
    assert ServiceState.load(path).deleted == {"a", "b"}


def test_a_corrupt_state_stops_the_start_naming_it_unless_told_to_fall_back(tmp_path):
    path = tmp_path / "s.json"
    ServiceState(path).changed(deleted=["a"]).save()
    ServiceState.load(path).changed(deleted=["b"]).save()
    path.write_text('{"format": 1, "upserts": {')  # torn by a disk fault
    with pytest.raises(DataError) as caught:
        ServiceState.load(path)
    assert str(caught.value).startswith(f"{path}: unreadable service state") and "--state-fallback" in str(caught.value)
    recovered = ServiceState.load(path, fallback=True)
    assert recovered.deleted == {"a"} and recovered.path == path
    recovered.changed(deleted=["c"]).save()  # the corrupt file is replaced by the next save
    assert ServiceState.load(path).deleted == {"a", "c"}


def test_a_disk_that_refuses_the_write_leaves_both_generations_as_they_were(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "s.json"
    ServiceState(path).changed(deleted=["a"]).save()
    before = path.read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("onesearch.deploy.state.os.fsync", full)
    with pytest.raises(OSError):
        ServiceState.load(path).changed(deleted=["b"]).save()
    monkeypatch.undo()
    assert path.read_bytes() == before and not previous_generation(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def _served(state: ServiceState) -> pa.Table:
    """The catalog ``state`` serves over ``_items()``."""
    change, tail = state.split(_items())
    return change.table(_items(), tail)
