"""Best Buy's 2011 mobile-site search log for Xbox 360 games (real queries, real typos).

Task ``bestbuy-xbox``: query -> the games its users clicked. Items are the 437 skus of
``small_product_data.json.gz`` (the real product names, e.g. "Assassin's Creed Brotherhood -
Xbox 360", with their long description, sale price and format). Examples: one per normalised
query (``normalize_query``: case-folded, white space collapsed), split 80/10/10 by salted hash
of that text, so a query never spans two splits. Targets: every sku clicked for the query, gain =
clicks on it for that query, relevant = clicked at least once.

History: none. Within one search (same user and query time) the rows are in click order, but
those clicks are the search's own targets; across a user's searches the order cannot be checked
(the timestamps lost their date and hour), so no user's earlier clicks are offered as history and
the examples are anonymous. Policy: the sku ``9.99917E+15`` is spreadsheet damage of
``9999169100050027`` and is repaired; clicks on skus with no product row (20 skus, 282 rows in
the shared file) are dropped and counted; queries that normalise to nothing are dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pandas as pd

from onesearch.tables import read_csv
from onesearch.catalog.schema import EXAMPLES, ITEMS, Dataset, build_table
from onesearch.catalog.splits import DEFAULT_SEED, hash_split, use_test_file
from onesearch.catalog.text import clean_text, normalize_query
from onesearch.errors import DataError

__all__ = ["FILES", "read", "read_test_file"]

FILES = ("bestbuy_xbox/small_product_data.json.gz", "bestbuy_xbox/clicks.csv.gz")
_CLICK_COLUMNS = ("user", "sku", "query")
_REPAIRED_SKUS = {"9.99917E+15": "9999169100050027"}
META = {
    "task": "query -> clicked items (implicit relevance)",
    "labels": "gain = clicks on the item for the query; relevant = clicked",
    "split": "80/10/10 by salted hash of the normalised query",
    "split_by": "query",
    "history": "none: the order of a user's searches cannot be recovered",
}


def read(root: Path, seed: int = DEFAULT_SEED) -> Dataset:
    """The 437-sku catalog and the ``bestbuy-xbox`` examples from the click log."""
    dataset = Dataset("bestbuy-xbox", _read_items(root / FILES[0]), meta=dict(META, seed=seed))
    clicks = _read_clicks(dataset, root / FILES[1])
    dataset.examples = _examples(clicks, seed)
    return dataset


def read_test_file(dataset: Dataset, path: Path) -> Dataset:
    """A click log in the shared layout (``user, sku, query``) becomes the test split; train and
    valid examples with one of its queries are dropped."""
    clicks = _read_clicks(dataset, Path(path))
    return use_test_file(dataset, _examples(clicks, DEFAULT_SEED, split="test"), key="query")


def _read_items(path: Path) -> pd.DataFrame:
    try:
        products = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"not a gzipped JSON object of products ({error})", path=path) from None
    if not isinstance(products, dict) or not products:
        raise DataError("expected a JSON object keyed by sku", path=path)
    skus = sorted(products)
    for sku in skus:
        if not isinstance(products[sku], dict) or not clean_text(products[sku].get("name")):
            raise DataError(f"product {sku!r} has no name", path=path)
    return build_table(
        ITEMS,
        {
            "item_id": skus,
            "title": [clean_text(products[s]["name"]) for s in skus],
            "category": [["Video Games", "Xbox 360"] for _ in skus],
            "attributes": [{"format": products[s]["format"]} if products[s].get("format") else None for s in skus],
            "price": [_price(products[s].get("salePrice")) for s in skus],
            "description": [clean_text((products[s].get("desc") or "").replace("\x97", "—")) or None for s in skus],
        },
    )


def _price(raw: object) -> float | None:
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _read_clicks(dataset: Dataset, path: Path) -> pd.DataFrame:
    clicks = read_csv(path, _CLICK_COLUMNS)
    clicks["sku"] = clicks["sku"].map(lambda s: _REPAIRED_SKUS.get(s, s))
    clicks["query"] = clicks["query"].map(lambda q: normalize_query(q or ""))
    known = clicks["sku"].isin(set(dataset.items["item_id"].to_pylist()))
    dataset.note(f"{path.name}: clicks dropped, sku not in the catalog", int((~known).sum()))
    empty = clicks["query"] == ""
    dataset.note(f"{path.name}: clicks dropped, empty query", int((known & empty).sum()))
    return clicks[known & ~empty]


def _examples(clicks: pd.DataFrame, seed: int, split: str | None = None):
    """One example per normalised query; targets by clicks (most first), then sku."""
    counts = clicks.groupby(["query", "sku"], sort=False).size().reset_index(name="clicks")
    counts = counts.sort_values(["query", "clicks", "sku"], ascending=[True, False, True], kind="stable")
    counts["target"] = [{"item_id": sku, "gain": float(n), "relevant": True} for sku, n in zip(counts["sku"], counts["clicks"])]
    targets = counts.groupby("query", sort=True)["target"].agg(list)
    queries = targets.index.tolist()
    splits = [split] * len(queries) if split else hash_split(queries, seed)
    ids = [f"bx-{hashlib.sha1(q.encode('utf-8')).hexdigest()[:12]}" for q in queries]
    return build_table(EXAMPLES, {"example_id": ids, "split": splits, "query": queries, "targets": targets.tolist()})
