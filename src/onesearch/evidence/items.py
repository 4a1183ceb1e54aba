"""The catalog as both searchers see it: rows aligned with every index, plus train statistics.

Contract: ``ItemTable.from_items(items, tokenizer)`` fixes document row i for item i of the
items table; every index (BM25, dense) and feature uses these rows. ``train_popularity`` counts
how many train examples judged each item relevant — the only popularity a searcher may use, so
valid and test labels never leak into features.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from onesearch.evidence.tokenize import Tokenizer
from onesearch.catalog.text import item_text
from onesearch.types import Example

__all__ = ["ItemTable", "train_popularity"]


@dataclass
class ItemTable:
    """Item ids, texts, term sets, leaf-category and brand codes, by document row."""

    ids: list[str]
    texts: list[str]
    terms: list[frozenset[str]]
    leaf: np.ndarray
    brand: np.ndarray
    row_of: dict[str, int]

    @classmethod
    def from_items(cls, items: pa.Table, tokenizer: Tokenizer) -> ItemTable:
        """Rows in items-table order."""
        columns = items.select(["item_id", "title", "brand", "category"]).to_pydict()
        texts = [item_text(t, b, c) for t, b, c in zip(columns["title"], columns["brand"], columns["category"])]
        return cls(
            ids=columns["item_id"],
            texts=texts,
            terms=[frozenset(tokenizer(text)) for text in texts],
            leaf=_codes([c[-1] if c else None for c in columns["category"]]),
            brand=_codes([b.lower() if b else None for b in columns["brand"]]),
            row_of={item: row for row, item in enumerate(columns["item_id"])},
        )

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


def _codes(values: list[str | None]) -> np.ndarray:
    code_of: dict[str, int] = {}
    return np.array([-1 if v is None else code_of.setdefault(v, len(code_of)) for v in values], dtype=np.int64)
