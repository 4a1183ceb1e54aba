"""Quality of a set of hierarchical codes.

Contract: pure functions over an ``n x positions`` integer code matrix (before collision
suffixes) and the number of values each position can take (``sizes``). Denominators:

- CUR at depth d (code utilisation rate) = distinct prefixes of length d / ∏ sizes[:d]. A
  balanced last level uses *local* indices, so its size is the per-parent codebook size and the
  denominator stays the product of sizes. OPQ positions count like any other.
- ICR (independent coding rate) = items whose code occurs exactly once / n.
- Top-value share at position p = share of items whose value at p is that position's most
  common value (a position where one value covers most items carries almost nothing).
- Collision sets: how many codes are shared and how large the groups are.
- Purity at depth d = share of items whose category equals the majority category of their
  prefix cluster (items without a category are skipped).
- Neighbour preservation at depth d = share of each item's k nearest embedding neighbours that
  share its prefix of length d (averaged over a seeded sample).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["code_utilisation", "collisions", "independent_coding_rate", "neighbour_preservation", "purity", "top_value_shares"]


def _prefix_keys(codes: np.ndarray, depth: int) -> np.ndarray:
    _, inverse = np.unique(codes[:, :depth], axis=0, return_inverse=True)
    return inverse.reshape(-1)


def code_utilisation(codes: np.ndarray, sizes: Sequence[int]) -> dict[str, float]:
    """``{"cur@1": …, "cur@2": …, …}`` for every depth."""
    out = {}
    for depth in range(1, codes.shape[1] + 1):
        distinct = len(np.unique(codes[:, :depth], axis=0))
        out[f"cur@{depth}"] = distinct / float(np.prod(np.array(sizes[:depth], dtype=np.float64)))
    return out


def top_value_shares(codes: np.ndarray) -> list[float]:
    """Per code position, the share of rows holding that position's most common value."""
    codes = np.asarray(codes)
    return [float(np.bincount(codes[:, p] - codes[:, p].min()).max() / len(codes)) if len(codes) else 0.0 for p in range(codes.shape[1])]


def independent_coding_rate(codes: np.ndarray) -> float:
    """Share of items whose full code no other item has."""
    keys = _prefix_keys(codes, codes.shape[1])
    counts = np.bincount(keys)
    return float((counts[keys] == 1).mean()) if len(keys) else 0.0


def collisions(codes: np.ndarray) -> dict[str, float]:
    """Distinct codes, shared codes, items on shared codes, largest and mean group size."""
    counts = np.bincount(_prefix_keys(codes, codes.shape[1]))
    shared = counts[counts > 1]
    return {
        "distinct_codes": int(len(counts)),
        "shared_codes": int(len(shared)),
        "items_on_shared_codes": int(shared.sum()),
        "largest_group": int(counts.max()) if len(counts) else 0,
        "mean_shared_group": float(shared.mean()) if len(shared) else 0.0,
    }


def purity(codes: np.ndarray, categories: Sequence[str | None], depth: int) -> float | None:
    """Majority-category share within each prefix cluster; None without categories."""
    keys = _prefix_keys(codes, depth)
    per_cluster: dict[int, Counter[str]] = {}
    for key, category in zip(keys.tolist(), categories):
        if category:
            per_cluster.setdefault(key, Counter())[category] += 1
    total = sum(sum(c.values()) for c in per_cluster.values())
    if not total:
        return None
    return sum(c.most_common(1)[0][1] for c in per_cluster.values()) / total


def neighbour_preservation(vectors: np.ndarray, codes: np.ndarray, depth: int, k: int = 10, sample: int = 2000, seed: int = 0) -> float:
    """Mean share of an item's ``k`` nearest neighbours (inner product) that share its prefix."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.random.default_rng(seed).choice(len(x), size=min(sample, len(x)), replace=False)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    _, neighbours = index.search(x[rows], k + 1)
    keys = _prefix_keys(codes, depth)
    shares = []
    for row, found in zip(rows, neighbours):
        others = [n for n in found if n != row and n >= 0][:k]
        shares.append(np.mean(keys[others] == keys[row]) if others else 0.0)
    return float(np.mean(shares))
