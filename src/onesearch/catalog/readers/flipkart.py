"""Flipkart product sample: attribute-rich items (category tree, brand, prices, specifications).

Loader only. ``item_id`` = Flipkart ``pid``; category path from ``product_category_tree``
(a list of levels, or one ``a >> b >> c`` string); ``price`` = discounted price (``retail_price`` kept as an attribute);
specification key/values become ``attributes``. Policy: unparseable specification or tree
fields are left empty and counted; a missing brand stays null (374 rows).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from onesearch.tables import read_csv, to_float
from onesearch.catalog.schema import ITEMS, Dataset, build_table
from onesearch.catalog.text import clean_markup, clean_text

__all__ = ["FILES", "read"]

FILES = ("flipkart/products.csv.gz",)


def _literal(raw: str | None) -> Any:
    try:
        return ast.literal_eval(raw) if raw else None
    except (ValueError, SyntaxError):
        return None


def _category(raw: str | None) -> list[str] | None:
    tree = _literal(raw)
    if not isinstance(tree, list) or not tree:
        return None
    levels = tree if len(tree) > 1 else str(tree[0]).split(">>")
    return [clean_text(str(level)) for level in levels if str(level).strip()]


def _specifications(raw: str | None) -> dict[str, str] | None:
    """The field is a Python literal {'product_specification': [{'key','value'}...]} (or one dict)."""
    spec = _literal((raw or "").replace("=>", ":"))
    if isinstance(spec, dict):
        spec = spec.get("product_specification")
    if isinstance(spec, dict):
        spec = [spec]
    if not isinstance(spec, list):
        return None
    return {str(s["key"]).strip(): clean_text(str(s["value"])) for s in spec if isinstance(s, dict) and "key" in s and "value" in s}


def read(root: Path) -> Dataset:
    """The 1,002 products as canonical items; no interactions."""
    path = root / FILES[0]
    frame = read_csv(path, ["pid", "product_name", "product_category_tree"])
    retail = to_float(frame["retail_price"], path, "retail_price")
    specs = [_specifications(raw) for raw in frame["product_specifications"]]
    categories = [_category(raw) for raw in frame["product_category_tree"]]
    attributes = [
        {**(s or {}), **({"retail_price": f"{r:g}"} if r == r else {})} or None for s, r in zip(specs, retail)
    ]
    dataset = Dataset(
        "flipkart",
        build_table(
            ITEMS,
            {
                "item_id": frame["pid"],
                "title": frame["product_name"].map(clean_text),
                "brand": frame["brand"].map(clean_text),
                "category": categories,
                "attributes": attributes,
                "price": to_float(frame["discounted_price"], path, "discounted_price"),
                "description": frame["description"].map(clean_markup),
            },
        ),
        meta={"task": None, "note": "1,002 products: loader only"},
    )
    dataset.note("specification fields not parseable (left empty)", sum(1 for s, raw in zip(specs, frame["product_specifications"]) if s is None and raw))
    dataset.note("category trees not parseable (left empty)", sum(1 for c in categories if c is None))
    return dataset
