"""Home Depot product search relevance: query -> items with graded human labels.

Task ``homedepot``: one example per normalised query over the full 54,667-product catalog.
Labels: relevance 1-3 (mean of graders; a pair repeated in the file is averaged);
gain = relevance - 1 (unjudged items count 0); relevant = relevance >= 2.33. Split 80/10/10 by
normalised query text (salted hash), so no query is in two splits. Policy: titles are repaired
with ``clean_text``; pairs naming a product outside the catalog are dropped and counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from onesearch.tables import read_csv, require_known, to_float
from onesearch.catalog.schema import EXAMPLES, ITEMS, Dataset, build_table
from onesearch.catalog.splits import DEFAULT_SEED, hash_split, use_test_file
from onesearch.catalog.text import clean_text, normalize_query
from onesearch.errors import DataError

__all__ = ["FILES", "RELEVANT_AT", "read", "read_test_file"]

FILES = ("homedepot/products.csv.gz", "homedepot/pairs.csv.gz")
RELEVANT_AT = 2.33
_PAIR_COLUMNS = ("product_uid", "search_term", "relevance")
META = {
    "task": "query -> items (graded relevance)",
    "labels": f"relevance 1-3 (mean of graders); gain = relevance - 1; relevant = relevance >= {RELEVANT_AT}",
    "split": "80/10/10 by salted hash of the normalised query",
    "split_by": "query",
    "history": "none",
}


def read(root: Path, seed: int = DEFAULT_SEED) -> Dataset:
    """Catalog, plus the ``homedepot`` task examples from the shared pairs file."""
    products = read_csv(root / FILES[0], ["product_uid", "product_title"])
    items = build_table(ITEMS, {"item_id": products["product_uid"], "title": products["product_title"].map(clean_text)})
    dataset = Dataset("homedepot", items, meta=dict(META, seed=seed))
    pairs = _read_pairs(root / FILES[1])
    known = pairs["product_uid"].isin(set(products["product_uid"]))
    dataset.note("pairs dropped: product not in catalog", int((~known).sum()))
    dataset.examples = _examples(pairs[known], seed)
    return dataset


def _read_pairs(path: Path) -> pd.DataFrame:
    pairs = read_csv(path, _PAIR_COLUMNS)
    pairs["relevance"] = to_float(pairs["relevance"], path, "relevance")
    out_of_range = ~pairs["relevance"].between(1.0, 3.0)
    if out_of_range.any():
        row = int(out_of_range.to_numpy().nonzero()[0][0])
        raise DataError(f"column 'relevance': {pairs['relevance'].iloc[row]} is outside 1-3", path=path, row=row + 1)
    empty = pairs["search_term"].isna()
    if empty.any():
        raise DataError("column 'search_term' is empty", path=path, row=int(empty.to_numpy().nonzero()[0][0]) + 1)
    pairs["query"] = pairs["search_term"].map(normalize_query)
    return pairs


def _examples(pairs: pd.DataFrame, seed: int, split: str | None = None):
    """One example per normalised query; targets sorted by gain, then item id."""
    graded = pairs.groupby(["query", "product_uid"], sort=False)["relevance"].mean().reset_index()
    graded = graded.sort_values(["query", "relevance", "product_uid"], ascending=[True, False, True], kind="stable")
    graded["target"] = [
        {"item_id": uid, "gain": rel - 1.0, "relevant": bool(rel >= RELEVANT_AT)}
        for uid, rel in zip(graded["product_uid"], graded["relevance"])
    ]
    targets = graded.groupby("query", sort=True)["target"].agg(list)
    queries = targets.index.tolist()
    splits = [split] * len(queries) if split else hash_split(queries, seed)
    ids = [f"hd-{hashlib.sha1(q.encode('utf-8')).hexdigest()[:12]}" for q in queries]
    return build_table(EXAMPLES, {"example_id": ids, "split": splits, "query": queries, "targets": targets.tolist()})


def read_test_file(dataset: Dataset, path: Path) -> Dataset:
    """A Home Depot pairs CSV (``product_uid, search_term, relevance``) becomes the test split."""
    pairs = _read_pairs(Path(path))
    require_known(pairs["product_uid"], dataset.items["item_id"].to_pylist(), path, "product_uid")
    return use_test_file(dataset, _examples(pairs, seed=0, split="test"), key="query")
