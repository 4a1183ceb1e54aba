"""What a data set holds, as plain JSON-able data: counts, schema, examples, label distribution.

Contract: ``summarize(dataset)`` reads the tables and returns a dict; it prints nothing (the CLI
renders it), so tests can assert on numbers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onesearch.catalog.schema import SPLITS, Dataset
from onesearch.catalog.store import split_counts

__all__ = ["summarize"]

_SAMPLE = 2


def _value_counts(column: pa.ChunkedArray) -> dict[str, int]:
    pairs = pc.value_counts(column.drop_null()).to_pylist()
    return {str(p["values"]): p["counts"] for p in sorted(pairs, key=lambda p: -p["counts"])}


def _labels(examples: pa.Table) -> dict[str, Any]:
    """Per split: examples, mean targets, share with a relevant target; gains overall."""
    per_split = {}
    gains: Counter[float] = Counter()
    for split in SPLITS:
        rows = examples.filter(pc.equal(examples["split"], split))
        if not rows.num_rows:
            continue
        targets = rows["targets"].to_pylist()
        for judged in targets:
            gains.update(round(t["gain"], 2) for t in judged)
        per_split[split] = {
            "examples": rows.num_rows,
            "mean_targets": round(sum(map(len, targets)) / rows.num_rows, 3),
            "with_relevant": sum(any(t["relevant"] for t in judged) for judged in targets),
            "users": pc.count_distinct(rows["user_id"]).as_py(),
            "queries": pc.count_distinct(rows["query"]).as_py(),
        }
    return {"per_split": per_split, "gain_counts": {f"{g:g}": n for g, n in sorted(gains.items())}}


def summarize(dataset: Dataset) -> dict[str, Any]:
    """Counts, schema, a few example rows and the label distribution of ``dataset``."""
    tables = dataset.tables()
    return {
        "name": dataset.name,
        "rows": {name: table.num_rows for name, table in tables.items()},
        "schema": {name: {f.name: str(f.type) for f in table.schema} for name, table in tables.items()},
        "samples": {name: table.slice(0, _SAMPLE).to_pylist() for name, table in tables.items() if table.num_rows},
        "interaction_types": _value_counts(dataset.interactions["type"]),
        "splits": split_counts(dataset),
        "labels": _labels(dataset.examples),
        "notes": dataset.notes,
        "meta": dataset.meta,
    }
