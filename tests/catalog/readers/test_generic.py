"""Every validation error class of the generic format, each with a small bad file."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onesearch.catalog.readers import generic
from onesearch.errors import DataError

ITEMS = "item_id,title,brand,category,price,color\na1,Red shoe,Nike,Shoes > Running,59.9,red\na2,Blue shoe,,Shoes,49,blue\na3,Trail shoe,,,,\n"
EVENTS = [
    '{"user_id": "u1", "type": "search", "query": "shoe", "session_id": "s1", "time": 1}',
    '{"user_id": "u1", "type": "click", "item_id": "a1", "query": "shoe", "session_id": "s1", "time": 2}',
    '{"user_id": "u1", "type": "order", "item_id": "a1", "query": "shoe", "session_id": "s1", "time": 3}',
    '{"user_id": "u2", "type": "cart", "item_id": "a3", "query": "trail", "session_id": "s2", "time": 4}',
]


def _source(tmp_path, items=ITEMS, events="\n".join(EVENTS) + "\n", items_name="items.csv"):
    (tmp_path / items_name).write_text(items, encoding="utf-8")
    if events is not None:
        (tmp_path / "interactions.jsonl").write_text(events, encoding="utf-8")
    return tmp_path


def test_good_source_reads_typed_tables_and_examples(tmp_path):
    dataset = generic.read(_source(tmp_path))
    dataset.validate()
    first = dataset.items.to_pylist()[0]
    assert first["category"] == ["Shoes", "Running"] and first["price"] == 59.9 and first["attributes"] == [("color", "red")]
    assert dataset.interactions["seq"].to_pylist() == [0, 1, 2, 0]
    examples = dataset.examples.to_pylist()
    # u1/s1/"shoe": click (gain 1) and order (gain 3) of a1 -> the stronger, 3; history = the search before it
    assert examples[0]["targets"] == [{"item_id": "a1", "gain": 3.0, "relevant": True}]
    assert examples[0]["history_end"] == 1
    assert examples[1]["targets"] == [{"item_id": "a3", "gain": 2.0, "relevant": True}]


def test_parquet_and_gzip_sources_read_the_same(tmp_path):
    table = pa.table({"item_id": ["a1", "a2"], "title": ["x", "y"], "price": [1.0, None]})
    pq.write_table(table, tmp_path / "items.parquet")
    assert generic.read(tmp_path).items.num_rows == 2
    other = tmp_path / "gz"
    other.mkdir()
    (other / "items.csv.gz").write_bytes(gzip.compress(ITEMS.encode()))
    assert generic.read(other).items["item_id"].to_pylist() == ["a1", "a2", "a3"]


@pytest.mark.parametrize(
    ("items", "events", "message"),
    [
        ("item_id,name\na1,x\n", None, "items.csv: missing column(s) 'title'"),
        ("item_id,title,price\na1,x,1\na2,y,cheap\n", None, "items.csv: row 2: column 'price': 'cheap' is not a number"),
        ("item_id,title\na1,x\na2,y\na1,z\n", None, "items.csv: row 3: duplicate item_id 'a1'"),
        ("item_id,title\na1,x\na2,\n", None, "items.csv: row 2: column 'title' is empty"),
        (ITEMS, '{"user_id": "u1", "type": "click", "item_id": "zz"}\n', "interactions.jsonl: row 1: column 'item_id': 'zz' is not in the catalog"),
        (ITEMS, '{"user_id": "u1", "type": "click", "item_id": "a1"}\n{"user_id": "u1", "type": "like", "item_id": "a1"}\n', "interactions.jsonl: row 2: column 'type': 'like' is not in the interaction types"),
        (ITEMS, '{"user_id": "u1", "type": "click"}\n', "interactions.jsonl: row 1: column 'item_id' is empty"),
        (ITEMS, '{"user_id": "u1", "type": "click", "item_id": "a1", "time": "noon"}\n', "interactions.jsonl: row 1: column 'time': 'noon' is not a number"),
        (ITEMS, '{"user_id": "u1", "type": "click", "item_id": "a1"}\n{"user_id": "u1"\n', "interactions.jsonl: row 2: not valid JSON"),
        (ITEMS, '{"type": "click", "item_id": "a1"}\n', "interactions.jsonl: row 1: missing field(s) 'user_id'"),
        ("", None, "items.csv: file is empty"),
        ("item_id,title\n", None, "items.csv: no data rows"),
    ],
)
def test_each_bad_input_gives_one_located_error(tmp_path, items, events, message):
    with pytest.raises(DataError) as error:
        generic.read(_source(tmp_path, items, events))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    (tmp_path / "items.csv").write_bytes(b"item_id,title\na1,ok\na2,caf\xe9\n")
    with pytest.raises(DataError, match=r"items.csv: line 3: invalid UTF-8 byte 0xe9"):
        generic.read(tmp_path)


def test_unknown_user_when_a_users_file_is_given(tmp_path):
    _source(tmp_path)
    (tmp_path / "users.csv").write_text("user_id,age\nu1,30\n")
    with pytest.raises(DataError, match="row 4: column 'user_id': 'u2' is not in the users file"):
        generic.read(tmp_path)


def test_missing_or_ambiguous_source_files(tmp_path):
    with pytest.raises(DataError, match="no items file"):
        generic.read(tmp_path)
    _source(tmp_path)
    (tmp_path / "items.jsonl").write_text('{"item_id": "a", "title": "b"}\n')
    with pytest.raises(DataError, match="several items files"):
        generic.read(tmp_path)
