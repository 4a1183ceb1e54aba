"""Amazon 2018 Industrial_and_Scientific and Office_Products in the MiniOneRec layout.

Tasks ``amazon-industrial`` and ``amazon-office``: next item from an explicit history (at most
10 items, oldest first). The files publish sliding windows over each user's sequence, valid
before test, so a later row's history holds the earlier rows' targets; there is no train file.
The protocol: test is the test file's rows; valid is the valid rows of the users who have test
rows (so selection is measured on the users it is for, before their test rows); a user with
valid rows only is a training user, all of whose rows are train (``sequences.whole_sequences``);
an evaluated user's train rows are the prefixes of the history of the user's first evaluated row,
cut before the first item any of the user's valid or test rows asks for
(``sequences.leak_free_prefixes``). No train row, and so no next-item or popularity count, holds
an interaction a valid or test row of the same user evaluates. Item ids are the catalog's integer keys as strings; the published 3-level
semantic ids are kept as attribute ``ref_sid``.
Policy: a history id 0 whose title is not item 0's title is padding, dropped and counted.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from onesearch.tables import read_csv, read_text
from onesearch.catalog.schema import ITEMS, Dataset, build_table
from onesearch.catalog.sequences import SequenceRow, leak_free_prefixes, sequence_examples, whole_sequences
from onesearch.catalog.splits import use_test_file
from onesearch.catalog.text import clean_markup, clean_text
from onesearch.errors import DataError

__all__ = ["DOMAINS", "files", "read", "read_test_file"]

DOMAINS = {"amazon-industrial": "Industrial_and_Scientific", "amazon-office": "Office_Products"}
_ROW_COLUMNS = ("user_id", "history_item_title", "history_item_id", "item_id")
META = {
    "task": "user history -> next item",
    "labels": "gain 1, relevant: the next item",
    "split": "test rows as published; valid = valid rows of users with test rows; train = every row of valid-only users + prefixes of each evaluated user's first history, cut before any item the user's valid or test rows ask for",
    "history": "explicit, oldest first, at most 10 items",
}


def files(name: str) -> tuple[str, ...]:
    """Paths under the data root that task ``name`` reads."""
    domain = DOMAINS[name]
    return (
        f"amazon_minionerec/index/{domain}.item.json",
        f"amazon_minionerec/index/{domain}.index.json",
        f"amazon_minionerec/valid/{domain}_5_2016-10-2018-11.csv.gz",
        f"amazon_minionerec/test/{domain}_5_2016-10-2018-11.csv.gz",
    )


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DataError(f"not valid JSON ({error.msg}, line {error.lineno})", path=path) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object keyed by item id", path=path)
    return data


def _description(raw: str | None) -> str | None:
    """The description field is a Python-literal list of paragraphs; join them."""
    if not raw:
        return None
    try:
        parts = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return clean_markup(raw)
    return clean_markup(" ".join(map(str, parts)) if isinstance(parts, list) else str(parts))


def _read_items(root: Path, name: str) -> pa.Table:
    item_path, sid_path = (root / p for p in files(name)[:2])
    meta, sids = _load_json(item_path), _load_json(sid_path)
    keys = sorted(meta, key=int)
    return build_table(
        ITEMS,
        {
            "item_id": keys,
            "title": [clean_text(meta[k].get("title")) or "" for k in keys],
            "brand": [clean_text(meta[k].get("brand")) or None for k in keys],
            "description": [_description(meta[k].get("description")) for k in keys],
            "attributes": [{"ref_sid": "".join(sids[k])} if k in sids else None for k in keys],
        },
    )


def read(root: Path, name: str) -> Dataset:
    """Catalog and examples for ``amazon-industrial`` or ``amazon-office``."""
    dataset = Dataset(name, _read_items(root, name), meta=dict(META, domain=DOMAINS[name]))
    published = _read_rows(dataset, root / files(name)[2])
    test = _read_rows(dataset, root / files(name)[3])
    tested = {row.user_id for row in test}
    valid = [row for row in published if row.user_id in tested]
    train = leak_free_prefixes(valid + test) + whole_sequences([row for row in published if row.user_id not in tested])
    prefix = "ai" if name == "amazon-industrial" else "ao"
    dataset.examples = pa.concat_tables(
        [sequence_examples(rows, split, prefix, "order") for rows, split in ((train, "train"), (valid, "valid"), (test, "test"))]
    )
    return dataset


def _parse_list(raw: str | None, path: Path, row: int, column: str) -> list[Any]:
    try:
        value = ast.literal_eval(raw or "[]")
    except (ValueError, SyntaxError):
        raise DataError(f"column {column!r} is not a list literal", path=path, row=row) from None
    if not isinstance(value, list):
        raise DataError(f"column {column!r} is not a list", path=path, row=row)
    return value


def _read_rows(dataset: Dataset, path: Path) -> list[SequenceRow]:
    """Rows of a MiniOneRec CSV; unknown items raise, padding zeros are dropped and counted."""
    frame = read_csv(path, _ROW_COLUMNS)
    titles = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["title"].to_pylist()))
    rows, padding = [], 0
    for row, record in enumerate(frame.to_dict("records"), start=1):
        ids = _parse_list(record["history_item_id"], path, row, "history_item_id")
        names = _parse_list(record["history_item_title"], path, row, "history_item_title")
        if len(names) != len(ids):
            names = [None] * len(ids)
        history = []
        for item, name in zip(map(str, ids), names):
            if item == "0" and name is not None and clean_text(str(name)) != titles.get("0"):
                padding += 1
                continue
            history.append(item)
        unknown = [i for i in [*history, str(record["item_id"])] if i not in titles]
        if unknown:
            raise DataError(f"item id {unknown[0]!r} is not in the catalog", path=path, row=row)
        rows.append(SequenceRow(str(record["user_id"]), tuple(history), str(record["item_id"])))
    dataset.note(f"padding ids dropped from {path.parent.name} histories", padding)
    return rows


def read_test_file(dataset: Dataset, path: Path) -> Dataset:
    """A MiniOneRec valid/test CSV becomes the test split; its users leave train/valid."""
    rows = _read_rows(dataset, Path(path))
    return use_test_file(dataset, sequence_examples(rows, "test", dataset.name, "order"), key="user_id")
