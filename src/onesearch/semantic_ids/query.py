"""Codes for new texts (queries, cold items) without refitting: the encode path of KHQE.

Contract: ``TextCoder(codebook, keywords, keyword_vectors)`` turns text vectors into codes the
way items were coded — each vector fused with the vectors of the keywords found in its text,
then quantized by the codebook. ``TextCoder.load(directory, embed)`` reads a codebook folder and
embeds its keyword pool with ``embed`` (the codebook's own text encoder).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from onesearch.embedding.keywords import Keyword, KeywordFuser
from onesearch.semantic_ids.codebook import SemanticIdCodebook

__all__ = ["TextCoder"]


class TextCoder:
    """Text + its vector -> keyword-fused vector -> code (no collision suffix)."""

    def __init__(self, codebook: SemanticIdCodebook, keywords: Sequence[Keyword], keyword_vectors: np.ndarray) -> None:
        self.codebook = codebook
        self.fuser = KeywordFuser(keywords, keyword_vectors)

    @classmethod
    def load(cls, directory: Path, embed: Callable[[list[str]], np.ndarray]) -> TextCoder:
        """The coder of a codebook folder; ``embed`` encodes its keywords."""
        path = Path(directory) / "keywords.json"
        keywords = [Keyword(**k) for k in json.loads(path.read_text())] if path.exists() else []
        vectors = embed([k.text for k in keywords]) if keywords else np.zeros((0, 1), dtype=np.float32)
        return cls(SemanticIdCodebook.load(directory), keywords, vectors)

    def codes(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """``n x len(code_sizes)`` codes of ``texts`` whose plain vectors are ``vectors``."""
        if not len(texts):
            return np.zeros((0, len(self.codebook.config.code_sizes)), dtype=np.int64)
        return self.codebook.encode(self.fuser.fused(texts, vectors))
