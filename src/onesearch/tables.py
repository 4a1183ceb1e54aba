"""Reading table files (CSV, JSONL, Parquet) with errors a person can act on; shared by the
catalog readers and the order readers.

Contract: every function here either returns data or raises ``DataError`` naming the file, the
data row (1-based, header not counted; for undecodable bytes, the physical line) and the problem.
Text must be UTF-8 (optionally gzip-compressed, by ``.gz`` suffix). CSV cells come back as
strings (``None`` for empty); typed conversion is explicit through ``to_float`` / ``to_int``.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from onesearch.errors import DataError

__all__ = [
    "TABLE_SUFFIXES",
    "first_duplicate",
    "read_csv",
    "read_jsonl",
    "read_records",
    "read_text",
    "require_columns",
    "require_known",
    "to_float",
    "to_int",
]

TABLE_SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")


def read_text(path: str | Path) -> str:
    """Whole file as text: gunzip by suffix, strict UTF-8; empty or undecodable -> ``DataError``."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"not a valid gzip file ({error})", path=path) from None
    if not raw.strip():
        raise DataError("file is empty", path=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"line {line}: invalid UTF-8 byte 0x{raw[error.start]:02x} (save the file as UTF-8)", path=path
        ) from None


def require_columns(columns: Iterable[str], required: Sequence[str], path: str | Path) -> None:
    """``DataError`` listing the required columns a file lacks."""
    missing = [name for name in required if name not in set(columns)]
    if missing:
        raise DataError(f"missing column(s) {', '.join(map(repr, missing))}", path=path)


def read_csv(path: str | Path, required: Sequence[str] = (), **options: Any) -> pd.DataFrame:
    """CSV as a DataFrame of strings (empty cells -> None); checks required columns and non-emptiness."""
    text = read_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], **options)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"not valid CSV: {error}", path=path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    require_columns(frame.columns, required, path)
    if frame.empty:
        raise DataError("no data rows", path=path)
    return frame.astype(object).where(frame.notna(), None)


def read_jsonl(path: str | Path, required: Sequence[str] = ()) -> list[dict[str, Any]]:
    """JSON Lines as a list of objects; each line must be a JSON object with the required keys."""
    records = []
    for row, line in enumerate(_data_lines(read_text(path)), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"not valid JSON ({error.msg})", path=path, row=row) from None
        if not isinstance(record, dict):
            raise DataError("each line must be a JSON object", path=path, row=row)
        missing = [key for key in required if key not in record]
        if missing:
            raise DataError(f"missing field(s) {', '.join(map(repr, missing))}", path=path, row=row)
        records.append(record)
    return records


def _data_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def read_records(path: str | Path, required: Sequence[str] = ()) -> pd.DataFrame:
    """A table file by suffix (CSV, JSONL, Parquet; ``.gz`` allowed for text) as an object DataFrame."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return read_csv(path, required)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        frame = pd.DataFrame.from_records(read_jsonl(path, required))
        return frame.astype(object).where(frame.notna(), None)
    if name.endswith(".parquet"):
        return _read_parquet(path, required)
    raise DataError(f"unsupported file type (use one of {', '.join(TABLE_SUFFIXES)})", path=path)


def _read_parquet(path: Path, required: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("file not found", path=path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"not a valid Parquet file ({error})", path=path) from None
    require_columns(table.column_names, required, path)
    if table.num_rows == 0:
        raise DataError("no data rows", path=path)
    frame = table.to_pandas()
    return frame.astype(object).where(frame.notna(), None)


def _convert(values: pd.Series, path: str | Path, column: str, kind: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if kind == "an integer":
        bad |= numbers.notna() & (numbers != numbers.round())
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(f"column {column!r}: {values.iloc[row]!r} is not {kind}", path=path, row=row + 1)
    return numbers


def to_float(values: pd.Series, path: str | Path, column: str) -> pd.Series:
    """Strings -> float64 (None -> NaN); the first non-number raises ``DataError`` with its row."""
    return _convert(values, path, column, "a number").astype("float64")


def to_int(values: pd.Series, path: str | Path, column: str) -> pd.Series:
    """Strings -> nullable Int64; the first non-integer raises ``DataError`` with its row."""
    return _convert(values, path, column, "an integer").astype("Int64")


def first_duplicate(values: pd.Series) -> int | None:
    """0-based position of the first value seen before, or None."""
    repeated = values.duplicated().to_numpy().nonzero()[0]
    return int(repeated[0]) if len(repeated) else None


def require_known(values: pd.Series, known: Iterable[str], path: str | Path, column: str, what: str = "catalog") -> None:
    """``DataError`` at the first non-null value of ``values`` that is not in ``known``."""
    unknown = values.notna() & ~values.isin(pd.Index(list(known)))
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        raise DataError(f"column {column!r}: {values.iloc[row]!r} is not in the {what}", path=path, row=row + 1)
