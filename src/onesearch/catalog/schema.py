"""Canonical tables: the columns every reader produces and every later stage reads.

Contract: a ``Dataset`` holds five Arrow tables with exactly the schemas below (columns mirror
``onesearch.types``), plus ``notes`` (counted data-policy events such as dropped duplicates) and
``meta`` (what the task means: label policy, time unit, split policy). Readers build tables with
``build_table``; ``Dataset.validate`` checks the cross-table invariants (unique item ids, known
items in interactions and targets) and names the offending row.
"""

from __future__ import annotations

import hashlib

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onesearch.errors import DataError
from onesearch.types import Example, HistoryEvent, InteractionType, Item, Target

__all__ = [
    "EXAMPLES",
    "INTERACTIONS",
    "ITEMS",
    "QUERIES",
    "SPLITS",
    "USERS",
    "Dataset",
    "build_table",
    "examples_of",
    "items_of",
]

SPLITS = ("train", "valid", "test")
_STR_MAP = pa.map_(pa.string(), pa.string())

ITEMS = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("brand", pa.string()),
        pa.field("category", pa.list_(pa.string())),
        pa.field("attributes", _STR_MAP),
        pa.field("price", pa.float64()),
        pa.field("seller", pa.string()),
        pa.field("description", pa.string()),
    ]
)
USERS = pa.schema([pa.field("user_id", pa.string(), nullable=False), pa.field("profile", _STR_MAP)])
INTERACTIONS = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("item_id", pa.string()),
        pa.field("query", pa.string()),
        pa.field("session_id", pa.string()),
        pa.field("time", pa.float64()),
        pa.field("position", pa.int32()),
    ]
)
QUERIES = pa.schema([pa.field("query_id", pa.string(), nullable=False), pa.field("text", pa.string(), nullable=False)])
_TARGET = pa.struct([("item_id", pa.string()), ("gain", pa.float32()), ("relevant", pa.bool_())])
_EVENT = pa.struct([("item_id", pa.string()), ("type", pa.string())])
EXAMPLES = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("query", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("history", pa.list_(_EVENT)),
        pa.field("history_end", pa.int64()),
        pa.field("targets", pa.list_(_TARGET), nullable=False),
    ]
)
TABLES: dict[str, pa.Schema] = {
    "items": ITEMS,
    "users": USERS,
    "interactions": INTERACTIONS,
    "queries": QUERIES,
    "examples": EXAMPLES,
}
_TYPES = {t.value for t in InteractionType}


def build_table(schema: pa.Schema, columns: Mapping[str, Any]) -> pa.Table:
    """Arrow table of ``schema`` from column sequences (lists, numpy or pandas); absent columns are null."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    n_rows = lengths.pop() if lengths else 0
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"columns not in schema: {sorted(unknown)}")
    arrays = []
    for schema_field in schema:
        values = columns.get(schema_field.name)
        if values is None:
            arrays.append(pa.nulls(n_rows, type=schema_field.type))
        else:
            arrays.append(pa.array(values, type=schema_field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


@dataclass
class Dataset:
    """Everything one data set yields: canonical tables, counted policy notes, task meaning."""

    name: str
    items: pa.Table
    users: pa.Table = field(default_factory=lambda: _empty(USERS))
    interactions: pa.Table = field(default_factory=lambda: _empty(INTERACTIONS))
    queries: pa.Table = field(default_factory=lambda: _empty(QUERIES))
    examples: pa.Table = field(default_factory=lambda: _empty(EXAMPLES))
    notes: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def training_fingerprint(self) -> str:
        """Short SHA-256 of everything a model may learn from: every table, the test examples
        left out. Trained artifacts are keyed by it, so an unseen test split (``--test-file``)
        reuses the models trained on the same train and valid data."""
        digest = hashlib.sha256()
        for name, table in self.tables().items():
            if name == "examples":
                table = table.filter(pc.invert(pc.equal(table["split"], "test")))
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table.combine_chunks())
            digest.update(name.encode() + sink.getvalue().to_pybytes())
        return digest.hexdigest()[:12]

    def tables(self) -> dict[str, pa.Table]:
        """The five tables by name, in schema order."""
        return {name: getattr(self, name) for name in TABLES}

    def note(self, what: str, count: int) -> None:
        """Record a counted data-policy event (kept only when ``count`` > 0)."""
        if count:
            self.notes[what] = self.notes.get(what, 0) + int(count)

    def validate(self, allow_unknown_items: bool = False) -> None:
        """Check schemas and cross-table invariants; ``DataError`` names the first bad row."""
        for name, table in self.tables().items():
            if not table.schema.equals(TABLES[name]):
                raise DataError(f"{name} table does not match the canonical schema", path=self.name)
        _check_unique(self.items, "item_id", f"{self.name} items")
        _check_unique(self.users, "user_id", f"{self.name} users")
        _check_unique(self.examples, "example_id", f"{self.name} examples")
        bad_type = pc.invert(pc.is_in(self.interactions["type"], value_set=pa.array(sorted(_TYPES))))
        _raise_first(bad_type, f"{self.name} interactions", "unknown interaction type")
        bad_split = pc.invert(pc.is_in(self.examples["split"], value_set=pa.array(SPLITS)))
        _raise_first(bad_split, f"{self.name} examples", "split must be train, valid or test")
        if not allow_unknown_items:
            known = self.items["item_id"]
            unknown = pc.and_(pc.is_valid(self.interactions["item_id"]), pc.invert(pc.is_in(self.interactions["item_id"], value_set=known)))
            _raise_first(unknown, f"{self.name} interactions", "item_id not in the catalog")
            target_ids = pc.list_flatten(self.examples["targets"]).combine_chunks().field("item_id")
            missing = pc.invert(pc.is_in(target_ids, value_set=known))
            if pc.any(missing).as_py():
                raise DataError(f"an example targets item {target_ids.filter(missing)[0]} not in the catalog", path=f"{self.name} examples")


def _check_unique(table: pa.Table, column: str, where: str) -> None:
    counts = pc.value_counts(table[column])
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(repeated):
        raise DataError(f"duplicate {column} {repeated[0]['values']}", path=where)


def _raise_first(mask: pa.ChunkedArray | pa.Array, where: str, problem: str) -> None:
    mask = pc.fill_null(mask, False)
    if pc.any(mask).as_py():
        row = pc.index(mask, True).as_py()
        raise DataError(problem, path=where, row=row + 1)


def _optional_tuple(values: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(values) if values else ()


def items_of(table: pa.Table) -> Iterator[Item]:
    """Rows of an items table as ``Item`` objects."""
    for row in table.to_pylist():
        yield Item(
            item_id=row["item_id"],
            title=row["title"],
            brand=row["brand"],
            category=_optional_tuple(row["category"]),
            attributes=dict(row["attributes"] or []),
            price=row["price"],
            seller=row["seller"],
            description=row["description"],
        )


def examples_of(table: pa.Table) -> Iterator[Example]:
    """Rows of an examples table as ``Example`` objects."""
    for row in table.to_pylist():
        yield Example(
            example_id=row["example_id"],
            split=row["split"],
            targets=tuple(Target(t["item_id"], float(t["gain"]), bool(t["relevant"])) for t in row["targets"]),
            query=row["query"],
            user_id=row["user_id"],
            history=tuple(HistoryEvent(e["item_id"], InteractionType(e["type"])) for e in row["history"] or []),
            history_end=row["history_end"],
        )
