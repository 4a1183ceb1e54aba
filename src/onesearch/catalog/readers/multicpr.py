"""Alibaba Multi-CPR e-commerce queries (Chinese): a query log without a product corpus.

Loader only: ``queries`` table from ``train.query.txt`` and ``dev.query.txt``
(``qid\\tquery``); the catalog is empty. Text is kept exactly as given (no case folding).
"""

from __future__ import annotations

from pathlib import Path

from onesearch.tables import read_text
from onesearch.catalog.schema import ITEMS, QUERIES, Dataset, build_table
from onesearch.errors import DataError

__all__ = ["FILES", "read"]

FILES = ("multicpr_queries/train.query.txt", "multicpr_queries/dev.query.txt")


def read(root: Path) -> Dataset:
    """All queries of both files; a duplicate query id across files raises."""
    ids, texts = [], []
    for name in FILES:
        for row, line in enumerate(read_text(root / name).splitlines(), start=1):
            qid, sep, text = line.partition("\t")
            if not sep or not text.strip():
                raise DataError("expected '<qid>\\t<query>'", path=root / name, row=row)
            ids.append(qid.strip())
            texts.append(text.strip())
    dataset = Dataset("multicpr", ITEMS.empty_table(), queries=build_table(QUERIES, {"query_id": ids, "text": texts}))
    dataset.meta = {"task": None, "note": "queries only; the product corpus is not available"}
    return dataset
