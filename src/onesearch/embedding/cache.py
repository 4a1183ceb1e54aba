"""On-disk embedding cache keyed by encoder key + text kind + text.

Contract: ``encode_cached(encoder, texts, kind, directory)`` returns exactly what
``encoder.encode`` would, computing only texts never seen before for that encoder and kind.
Each encoder's vectors live in one ``.npz`` file replaced atomically (temp file + rename), so an
interrupted run loses at most the new vectors, never stored ones.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from onesearch.embedding.encoder import Kind, TextEncoder

__all__ = ["encode_cached"]

_CHUNK = 4096


def encode_cached(
    encoder: TextEncoder,
    texts: Sequence[str],
    kind: Kind,
    directory: Path,
    advance: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Vectors for ``texts`` (one row each), encoding and storing only the missing ones."""
    path = Path(directory) / f"{encoder.key}.npz"
    keys, vectors = _load(path, encoder.dim)
    row_of = {key: row for row, key in enumerate(keys.tolist())}
    wanted = np.array([_digest(kind, text) for text in texts], dtype="U32").reshape(len(texts))
    missing = list(dict.fromkeys(key for key in wanted.tolist() if key not in row_of))
    if missing:
        text_of = {key: text for key, text in zip(wanted.tolist(), texts)}
        new = []
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            new.append(encoder.encode([text_of[key] for key in chunk], kind))
            if advance is not None:
                advance(len(chunk))
        keys = np.concatenate([keys, np.array(missing, dtype="U32")])
        vectors = np.concatenate([vectors, *new]).astype(np.float32)
        _save(path, keys, vectors)
        row_of = {key: row for row, key in enumerate(keys.tolist())}
    return vectors[[row_of[key] for key in wanted.tolist()]] if len(texts) else np.zeros((0, encoder.dim), np.float32)


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
