"""The data sets onesearch knows, by name, and how to load each one.

Contract: ``load(name, root, test_file=None, source=None)`` returns a validated ``Dataset`` or
raises ``DataError`` (unknown name, missing files, bad rows). ``root`` is the shared data
folder; the ``generic`` data set reads a user's ``source`` directory instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from onesearch.catalog.readers import (
    amazon_minionerec,
    amazon_scientific,
    bestbuy,
    bestbuy_xbox,
    flipkart,
    generic,
    homedepot,
    instacart,
    jdsearch,
    kuaisearch,
    multicpr,
)
from onesearch.artifacts import file_sha256
from onesearch.catalog.schema import Dataset
from onesearch.errors import DataError

__all__ = ["DATASETS", "DataSpec", "fingerprint", "get_spec", "input_files", "load"]


@dataclass(frozen=True)
class DataSpec:
    """One loadable data set: where it lives, what it holds, how to read it and its test files."""

    name: str
    summary: str
    files: tuple[str, ...]
    read: Callable[[Path], Dataset]
    task: bool
    test_file: Callable[[Dataset, Path], Dataset] | None = None
    test_file_format: str | None = None
    reads_source: bool = False  # True: ``read`` takes the user's --source directory, not the data root


DATASETS: dict[str, DataSpec] = {
    spec.name: spec
    for spec in (
        DataSpec("homedepot", "Home Depot query -> product relevance (graded)", homedepot.FILES, homedepot.read, True,
                 homedepot.read_test_file, "Home Depot pairs CSV (product_uid, search_term, relevance)"),
        DataSpec("instacart", "Instacart personalised search (aisle query + order history)", instacart.FILES, instacart.read, True,
                 instacart.read_test_file, "Instacart order-lines CSV (order_id, user_id, order_number, product_id, ...)"),
        DataSpec("amazon-scientific", "Amazon Scientific next item, query = category path (RecBole)", amazon_scientific.FILES,
                 amazon_scientific.read, True, amazon_scientific.read_test_file, "RecBole .inter file (same item/user indexes)"),
        *(
            DataSpec(name, f"Amazon {domain} next item (MiniOneRec layout)", amazon_minionerec.files(name),
                     partial(amazon_minionerec.read, name=name), True, amazon_minionerec.read_test_file, "MiniOneRec valid/test CSV")
            for name, domain in amazon_minionerec.DOMAINS.items()
        ),
        DataSpec("bestbuy-xbox", "Best Buy Xbox 360 search log: real queries -> clicked games", bestbuy_xbox.FILES, bestbuy_xbox.read, True,
                 bestbuy_xbox.read_test_file, "Best Buy clicks CSV (user, sku, query, ...)"),
        DataSpec("kuaisearch", "KuaiSearch demo (Chinese; loaders only, files do not join)", kuaisearch.FILES, kuaisearch.read, False),
        DataSpec("jdsearch", "JDsearch sample (anonymised terms; typed history)", jdsearch.FILES, jdsearch.read, False),
        DataSpec("bestbuy", "Best Buy catalog + simulated click sessions", bestbuy.FILES, bestbuy.read, False),
        DataSpec("flipkart", "Flipkart attribute-rich products", flipkart.FILES, flipkart.read, False),
        DataSpec("multicpr", "Multi-CPR Chinese e-commerce queries (no corpus)", multicpr.FILES, multicpr.read, False),
        DataSpec("generic", "your own data: --source DIR with items / users / interactions", (), generic.read, True,
                 reads_source=True),
    )
}  # fmt: skip

_ALLOWS_DANGLING = {"kuaisearch"}  # the demo's files do not join; its reader counts the dangling ids


def get_spec(name: str) -> DataSpec:
    """The spec for ``name``; ``DataError`` listing the known names otherwise."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def input_files(name: str, root: Path, source: Path | None = None) -> dict[str, Path]:
    """Every file the data set reads, by display name (for hashing into the manifest)."""
    if get_spec(name).reads_source:
        if source is None:
            raise DataError(f"the {name} data set needs --source DIR")
        stems = ("items", "users", "interactions")
        found = {stem: generic.find_file(source, stem, required=stem == "items") for stem in stems}
        return {path.name: path for path in found.values() if path is not None}
    return {relative: root / relative for relative in get_spec(name).files}


def load(name: str, root: Path, test_file: Path | None = None, source: Path | None = None) -> Dataset:
    """Read, apply ``test_file`` (the task's raw format) if given, validate, return."""
    spec = get_spec(name)
    for display, path in input_files(name, root, source).items():
        if not path.is_file():
            raise DataError(f"missing input file {display} (is --data pointing at the shared data?)", path=path)
    dataset = spec.read(source if spec.reads_source else root)
    if test_file is not None:
        if spec.test_file is None:
            raise DataError(f"data set {name!r} takes no --test-file")
        dataset = spec.test_file(dataset, Path(test_file))
    dataset.validate(allow_unknown_items=name in _ALLOWS_DANGLING)
    return dataset


def fingerprint(name: str, root: Path, source: Path | None = None, test_file: Path | None = None) -> str:
    """Short SHA-256 over every input file (and the test file), so artifacts follow their data."""
    files = dict(input_files(name, root, source))
    if test_file is not None:
        files["test_file"] = Path(test_file)
    digest = hashlib.sha256(json.dumps({k: file_sha256(p) for k, p in sorted(files.items())}).encode())
    return digest.hexdigest()[:12]
