"""A prepared data set on disk: one Parquet file per canonical table plus ``manifest.json``.

Contract: ``save`` writes atomically (a failed run leaves no directory and keeps any older one);
``load_prepared`` reads back exactly the tables saved, checking the manifest kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.catalog.schema import SPLITS, TABLES, Dataset
from onesearch.errors import DataError

__all__ = ["KIND", "load_prepared", "save", "split_counts"]

KIND = "prepared-data"


def split_counts(dataset: Dataset) -> dict[str, int]:
    """Examples per split, in train/valid/test order."""
    counts = {row["values"]: row["counts"] for row in pc.value_counts(dataset.examples["split"]).to_pylist()}
    return {split: counts.get(split, 0) for split in SPLITS}


def save(dataset: Dataset, out: Path, config: Mapping[str, Any], inputs: Mapping[str, Path]) -> dict[str, Any]:
    """Write ``dataset`` to ``out`` (atomic); returns the manifest."""
    with atomic_directory(out) as tmp:
        for name, table in dataset.tables().items():
            pq.write_table(table, tmp / f"{name}.parquet")
        return write_manifest(
            tmp,
            KIND,
            config=dict(config, name=dataset.name),
            inputs=inputs,
            rows={name: table.num_rows for name, table in dataset.tables().items()},
            splits=split_counts(dataset),
            notes=dataset.notes,
            meta=dataset.meta,
        )


def load_prepared(directory: Path) -> Dataset:
    """The ``Dataset`` saved in ``directory``."""
    manifest = read_manifest(directory, kind=KIND)
    tables = {}
    for name, schema in TABLES.items():
        path = Path(directory) / f"{name}.parquet"
        if not path.is_file():
            raise DataError(f"prepared data is missing {path.name}", path=directory)
        tables[name] = pq.read_table(path, schema=schema)
    return Dataset(manifest["config"]["name"], notes=manifest.get("notes", {}), meta=manifest.get("meta", {}), **tables)
