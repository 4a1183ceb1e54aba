"""Deterministic task splits and the ``--test-file`` policy shared by every task.

Contract: the same inputs and seed always give the same split. ``hash_split`` assigns a key
(e.g. a normalised query) to one split from a salted SHA-1, so a key never spans two splits and
adding or removing other keys never moves it. ``recency_split`` labels a user's last unit test,
the one before valid, the rest train. ``use_test_file`` makes an external file the whole test
split and removes from train/valid every example that shares a key (query or user) with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onesearch.catalog.schema import Dataset

__all__ = ["DEFAULT_FRACTIONS", "DEFAULT_SEED", "hash_split", "recency_split", "use_test_file"]

DEFAULT_SEED = 20250903
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
_BUCKETS = 10_000


def _bucket(key: str, seed: int) -> int:
    digest = hashlib.sha1(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


def hash_split(keys: Iterable[str], seed: int = DEFAULT_SEED, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> list[str]:
    """train/valid/test per key, by salted hash bucket against cumulative ``fractions``."""
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}")
    train_end = round(fractions[0] * _BUCKETS)
    valid_end = train_end + round(fractions[1] * _BUCKETS)
    names = []
    for key in keys:
        bucket = _bucket(key, seed)
        names.append("train" if bucket < train_end else "valid" if bucket < valid_end else "test")
    return names


def recency_split(rank_from_last: np.ndarray) -> np.ndarray:
    """0 (a user's last unit) -> test, 1 -> valid, older -> train."""
    ranks = np.asarray(rank_from_last)
    return np.where(ranks == 0, "test", np.where(ranks == 1, "valid", "train"))


def use_test_file(dataset: Dataset, test_examples: pa.Table, key: str) -> Dataset:
    """Make ``test_examples`` the test split; drop train/valid examples sharing ``key`` values with it.

    ``key`` is ``"query"`` (query tasks) or ``"user_id"`` (user tasks). Counts of what was
    dropped go to ``dataset.notes``; the caller has already validated ``test_examples``.
    """
    base = dataset.examples
    held_out = pc.unique(test_examples[key].drop_null())
    leaked = pc.fill_null(pc.is_in(base[key], value_set=held_out), False)
    is_test = pc.equal(base["split"], "test")
    dataset.note("base test examples replaced by --test-file", pc.sum(is_test).as_py() or 0)
    dataset.note(f"train/valid examples dropped: {key} also in --test-file", pc.sum(pc.and_(leaked, pc.invert(is_test))).as_py() or 0)
    kept = base.filter(pc.and_(pc.invert(leaked), pc.invert(is_test)))
    dataset.examples = pa.concat_tables([kept, test_examples.cast(base.schema)])
    dataset.meta["test_file"] = True
    return dataset
