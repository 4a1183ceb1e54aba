"""Amazon 2018 Industrial & Scientific in RecBole atomic format (UniSRec layout).

Task ``amazon-scientific``: next item from the user's history, with a query or without: the
query is the target's category path, which ``Scientific.text`` carries (meta
``query_optional``: a searcher may ignore it). Splits are the files' own (train is already
prefix-augmented: one row per prefix); histories are explicit, oldest first. Item texts are
"title. category path. brand."; the category path is anchored at its root
"Industrial & Scientific" because titles and brands may contain ". " themselves. The RecBole
integer index of each item / user is kept as attribute / profile field ``recbole_index``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from onesearch.tables import read_text
from onesearch.catalog.schema import ITEMS, USERS, Dataset, build_table
from onesearch.catalog.sequences import SequenceRow, sequence_examples
from onesearch.catalog.splits import use_test_file
from onesearch.catalog.text import clean_text
from onesearch.errors import DataError

__all__ = ["FILES", "read", "read_test_file", "split_text"]

_PREFIX = "amazon_scientific/Scientific"
FILES = tuple(f"{_PREFIX}.{part}" for part in ("text", "item2index", "user2index", "train.inter", "valid.inter", "test.inter"))
_ROOT_CATEGORY = "Industrial & Scientific"
_INDEX = "recbole_index"
_INTER_HEADER = ["user_id:token", "item_id_list:token_seq", "item_id:token"]
META = {
    "task": "user history (+ optional query = target's category path) -> next item",
    "labels": "gain 1, relevant: the next item",
    "split": "the RecBole files' own leave-one-out split (train prefix-augmented)",
    "history": "explicit, oldest first",
    "query_optional": True,
}


def split_text(text: str) -> tuple[str, str | None, str | None]:
    """'title. category path. brand.' -> (title, category path, brand); unanchored text is all title."""
    text = text.strip()
    anchor = text.find(f". {_ROOT_CATEGORY}")
    if anchor < 0:
        return text.rstrip("."), None, None
    title, rest = text[:anchor], text[anchor + 2 :]
    category, _, brand = rest.partition(". ")
    return title, category.rstrip("."), brand.strip().rstrip(".") or None


def _read_index(path: Path) -> dict[str, str]:
    """'<raw id>\\t<index>' lines -> {raw id: index}."""
    index = {}
    for row, line in enumerate(read_text(path).splitlines(), start=1):
        raw, sep, number = line.partition("\t")
        if not sep or not number.strip().isdigit():
            raise DataError("expected '<id>\\t<integer index>'", path=path, row=row)
        index[raw.strip()] = number.strip()
    return index


def _read_items(root: Path) -> pa.Table:
    index = _read_index(root / FILES[1])
    rows = []
    for row, line in enumerate(read_text(root / FILES[0]).splitlines()[1:], start=1):
        asin, sep, text = line.partition("\t")
        if not sep or asin not in index:
            raise DataError("expected '<item_id>\\t<text>' with an item_id from item2index", path=root / FILES[0], row=row)
        rows.append((asin, *split_text(clean_text(text) or "")))
    return build_table(
        ITEMS,
        {
            "item_id": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "category": [[r[2]] if r[2] else None for r in rows],
            "brand": [r[3] for r in rows],
            "attributes": [{_INDEX: index[r[0]]} for r in rows],
        },
    )


def read(root: Path) -> Dataset:
    """Catalog from the item texts plus train/valid/test examples from the ``.inter`` files."""
    users = _read_index(root / FILES[2])
    dataset = Dataset(
        "amazon-scientific",
        _read_items(root),
        users=build_table(USERS, {"user_id": list(users), "profile": [{_INDEX: i} for i in users.values()]}),
        meta=dict(META),
    )
    dataset.examples = pa.concat_tables(
        [_examples(dataset, root / path, split) for path, split in zip(FILES[3:], ("train", "valid", "test"))]
    )
    return dataset


def _index_map(table: pa.Table, id_column: str, field: str) -> dict[str, str]:
    """{recbole index: id} from the ``recbole_index`` entries of a map column."""
    return {dict(entries)[_INDEX]: key for key, entries in zip(table[id_column].to_pylist(), table[field].to_pylist())}


def _examples(dataset: Dataset, path: Path, split: str) -> pa.Table:
    """Rows of one ``.inter`` file (indexes) as canonical examples with real ids."""
    items = _index_map(dataset.items, "item_id", "attributes")
    users = _index_map(dataset.users, "user_id", "profile")
    lines = read_text(path).splitlines()
    if lines[0].split("\t") != _INTER_HEADER:
        raise DataError(f"header must be {' / '.join(_INTER_HEADER)} (tab-separated)", path=path)
    rows = [_parse_inter(line, row, path, items, users) for row, line in enumerate(lines[1:], start=1) if line.strip()]
    category = {i: (c[0] if c else None) for i, c in zip(dataset.items["item_id"].to_pylist(), dataset.items["category"].to_pylist())}
    return sequence_examples(rows, split, "as", "order", query_of=category.get)


def _parse_inter(line: str, row: int, path: Path, items: dict[str, str], users: dict[str, str]) -> SequenceRow:
    parts = line.split("\t")
    if len(parts) != 3:
        raise DataError("expected 3 tab-separated fields: user, history, next item", path=path, row=row)
    user, history, target = parts[0].strip(), parts[1].split(), parts[2].strip()
    if user not in users:
        raise DataError(f"user index {user!r} is not in user2index", path=path, row=row)
    unknown = [i for i in [*history, target] if i not in items]
    if unknown:
        raise DataError(f"item index {unknown[0]!r} is not in the catalog", path=path, row=row)
    return SequenceRow(users[user], tuple(items[i] for i in history), items[target])


def read_test_file(dataset: Dataset, path: Path) -> Dataset:
    """A RecBole ``.inter`` file in the same index space becomes the test split; its users leave train/valid."""
    return use_test_file(dataset, _examples(dataset, Path(path), "test"), key="user_id")
