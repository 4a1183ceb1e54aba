"""``ServiceState``: changes applied to the bundle's catalog, stored atomically, bad files one line."""

from __future__ import annotations

import pyarrow as pa
import pytest

from onesearch.catalog.schema import ITEMS, build_table
from onesearch.deploy.state import ServiceState
from onesearch.errors import DataError


def _items() -> pa.Table:
    return build_table(ITEMS, {"item_id": ["a", "b", "c"], "title": ["apple", "banana", "cherry"], "price": [1.0, 2.0, 3.0]})


def test_apply_drops_deleted_and_replaces_upserted_rows(tmp_path):
    state = ServiceState(tmp_path / "s.json").changed(
        upserts=[{"item_id": "b", "title": "blue banana", "attributes": {"colour": "blue"}, "in_stock": False}, {"item_id": "d", "title": "date"}],
        deleted=["a"],
    )
    served = state.apply(_items())
    assert served.schema == ITEMS
    assert served["item_id"].to_pylist() == ["c", "b", "d"]
    assert served["title"].to_pylist() == ["cherry", "blue banana", "date"]
    assert served["attributes"].to_pylist()[1] == [("colour", "blue")]
    assert not state.in_stock("b") and state.in_stock("c")


def test_a_later_upsert_undeletes_and_a_later_delete_wins():
    state = ServiceState().changed(deleted=["a"]).changed(upserts=[{"item_id": "a", "title": "apricot"}])
    assert state.apply(_items())["title"].to_pylist()[-1] == "apricot"
    assert "a" not in state.changed(deleted=["a"]).apply(_items())["item_id"].to_pylist()


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
