"""On-disk embedding cache keyed by encoder key + text kind + text.

Contract: ``encode_cached(encoder, texts, kind, directory)`` returns exactly what
``encoder.encode`` would, computing only texts never seen before for that encoder and kind.
Each encoder's vectors live in one ``.npz`` file replaced atomically (temp file + rename), so an
interrupted run loses at most the new vectors, never stored ones. A sharded build reads the file
in each worker (``CacheView``) and lets only its driver add to it (``store``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from onesearch.embedding.encoder import Kind, TextEncoder

__all__ = ["CacheView", "encode_cached", "store"]

_CHUNK = 4096


def encode_cached(
    encoder: TextEncoder,
    texts: Sequence[str],
    kind: Kind,
    directory: Path,
    advance: Callable[[int], None] | None = None,
    keep: bool = True,
) -> np.ndarray:
    """Vectors for ``texts`` (one row each), encoding and storing only the missing ones
    (``keep=False``: the cache is only read; what it lacks is encoded and not stored)."""
    view = CacheView(encoder.key, encoder.dim, directory)
    vectors, found = view.lookup(texts, kind)
    missing = list(dict.fromkeys(text for text, hit in zip(texts, found) if not hit))
    if missing:
        new = []
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            new.append(encoder.encode(chunk, kind))
            if advance is not None:
                advance(len(chunk))
        if not keep:
            encoded = dict(zip(missing, np.concatenate(new)))
            return np.stack([encoded[text] if not hit else vector for text, hit, vector in zip(texts, found, vectors)]).astype(np.float32)
        store(encoder.key, encoder.dim, missing, kind, np.concatenate(new), directory)
        vectors, _ = CacheView(encoder.key, encoder.dim, directory).lookup(texts, kind)
    return vectors


class CacheView:
    """The vectors one encoder has stored in ``directory``, read once (what each worker of a
    sharded build holds; only the driver writes, through ``store``)."""

    def __init__(self, key: str, dim: int, directory: Path) -> None:
        self.dim = dim
        keys, self.vectors = _load(Path(directory) / f"{key}.npz", dim)
        self.row_of = {k: row for row, k in enumerate(keys.tolist())}

    def lookup(self, texts: Sequence[str], kind: Kind) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, found): the stored vector of each text (zeros where none) and whether it was stored."""
        rows = np.array([self.row_of.get(_digest(kind, text), -1) for text in texts], dtype=np.int64)
        found = rows >= 0
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[found] = self.vectors[rows[found]]
        return out, found


def store(key: str, dim: int, texts: Sequence[str], kind: Kind, vectors: np.ndarray, directory: Path) -> None:
    """Add the vectors of ``texts`` to the encoder ``key``'s stored vectors (atomically; texts
    already stored keep their vector)."""
    path = Path(directory) / f"{key}.npz"
    keys, stored = _load(path, dim)
    known = set(keys.tolist())
    new = {}
    for text, vector in zip(texts, np.asarray(vectors, dtype=np.float32)):
        digest = _digest(kind, text)
        if digest not in known:
            new.setdefault(digest, vector)
    if new:
        _save(path, np.concatenate([keys, np.array(list(new), dtype="U32")]), np.concatenate([stored, np.stack(list(new.values()))]).astype(np.float32))


def _digest(kind: str, text: str) -> str:
    return hashlib.blake2b(f"{kind}\0{text}".encode(), digest_size=16).hexdigest()


def _load(path: Path, dim: int) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        return np.zeros(0, dtype="U32"), np.zeros((0, dim), dtype=np.float32)
    with np.load(path) as stored:
        return stored["keys"], stored["vectors"]


def _save(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # one per process: data-parallel ranks may write at once
    np.savez(tmp, keys=keys, vectors=vectors)
    os.replace(tmp, path)
