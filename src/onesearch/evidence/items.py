"""The catalog as both searchers see it: rows aligned with every index, plus train statistics.

Contract: ``ItemTable.from_items(items, tokenizer)`` fixes document row i for item i of the
items table; every index (BM25, dense) and feature uses these rows. ``train_popularity`` counts
how many train examples judged each item relevant — the only popularity a searcher may use, so
valid and test labels never leak into features.

A served catalog that changed since its indexes were built is a ``RowChange`` of that base: the
base rows it keeps, in base order, then a tail of new or edited items (``ServiceState.split``'s
layout). ``ItemTable.changed(change, tail_items, tokenizer)`` is the changed table, built from the
base's rows without re-analysing them, so every index can be derived the same way: its base
answer for the kept rows, then the tail's (``RowChange.combine``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from onesearch.evidence.tokenize import Tokenizer
from onesearch.catalog.text import item_text
from onesearch.types import Example

__all__ = ["ItemTable", "RowChange", "train_popularity"]


@dataclass(frozen=True)
class RowChange:
    """A catalog as a change of a base catalog: the base rows ``kept`` (in base order), then
    ``tail`` new rows."""

    kept: np.ndarray
    tail: int

    def __len__(self) -> int:
        return len(self.kept) + self.tail

    def combine(self, base: np.ndarray, tail: np.ndarray) -> np.ndarray:
        """Per changed row: ``base``'s value (per base row) for kept rows, then ``tail``'s."""
        return np.concatenate([np.asarray(base)[self.kept], np.asarray(tail, dtype=np.asarray(base).dtype)])

    def rows(self, base: list, tail: list) -> list:
        """``combine`` for Python lists."""
        return [base[row] for row in self.kept.tolist()] + list(tail)

    def table(self, base: pa.Table, tail: pa.Table) -> pa.Table:
        """The changed catalog as one table in ``tail``'s schema: ``base``'s kept rows, then ``tail``."""
        return pa.concat_tables([base.take(pa.array(self.kept)).select(tail.column_names).cast(tail.schema), tail])


@dataclass
class ItemTable:
    """Item ids, texts, term sets, leaf-category and brand codes, by document row."""

    ids: list[str]
    texts: list[str]
    terms: list[frozenset[str]]
    leaf: np.ndarray
    brand: np.ndarray
    row_of: dict[str, int]
    leaf_codes: dict[str, int] = field(default_factory=dict)  # leaf category -> its code in ``leaf``
    brand_codes: dict[str, int] = field(default_factory=dict)  # lower-cased brand -> its code in ``brand``
    derived: dict[object, object] = field(default_factory=dict, repr=False, compare=False)  # structures built from these rows once (e.g. the planner's postings)

    @classmethod
    def from_items(cls, items: pa.Table, tokenizer: Tokenizer, leaf_codes: dict[str, int] | None = None, brand_codes: dict[str, int] | None = None) -> ItemTable:
        """Rows in items-table order (category and brand codes continue the given ones)."""
        columns = items.select(["item_id", "title", "brand", "category"]).to_pydict()
        texts = [item_text(t, b, c) for t, b, c in zip(columns["title"], columns["brand"], columns["category"])]
        leaf_codes, brand_codes = dict(leaf_codes or {}), dict(brand_codes or {})
        return cls(
            ids=columns["item_id"],
            texts=texts,
            terms=[frozenset(tokenizer(text)) for text in texts],
            leaf=_codes([c[-1] if c else None for c in columns["category"]], leaf_codes),
            brand=_codes([b.lower() if b else None for b in columns["brand"]], brand_codes),
            row_of={item: row for row, item in enumerate(columns["item_id"])},
            leaf_codes=leaf_codes,
            brand_codes=brand_codes,
        )

    def changed(self, change: RowChange, tail_items: pa.Table, tokenizer: Tokenizer) -> ItemTable:
        """The table of this base catalog changed by ``change``, whose tail rows are ``tail_items``
        (only they are analysed)."""
        tail = ItemTable.from_items(tail_items, tokenizer, self.leaf_codes, self.brand_codes)
        ids = change.rows(self.ids, tail.ids)
        return ItemTable(ids, change.rows(self.texts, tail.texts), change.rows(self.terms, tail.terms), change.combine(self.leaf, tail.leaf),
                         change.combine(self.brand, tail.brand), {item: row for row, item in enumerate(ids)}, tail.leaf_codes, tail.brand_codes)

    def __len__(self) -> int:
        return len(self.ids)


def train_popularity(items: ItemTable, train_examples: Iterable[Example]) -> np.ndarray:
    """Per row: the number of train examples with the item as a relevant target."""
    counts = np.zeros(len(items), dtype=np.float32)
    for example in train_examples:
        for target in example.targets:
            row = items.row_of.get(target.item_id)
            if target.relevant and row is not None:
                counts[row] += 1
    return counts


def _codes(values: list[str | None], code_of: dict[str, int]) -> np.ndarray:
    """Each value's code in ``code_of``, which new values join (-1 for None)."""
    return np.array([-1 if v is None else code_of.setdefault(v, len(code_of)) for v in values], dtype=np.int64)
