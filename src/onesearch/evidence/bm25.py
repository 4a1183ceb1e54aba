"""Lexical recall over ``bm25s``: an index that is a plain folder of .npy/.json files.

Contract: ``Bm25Index.build(texts, tokenizer)`` indexes documents 0..n-1; ``scores(query)``
returns the BM25 score of every document (float32, zero when no query term matches);
``save``/``load`` round-trip the index with its analyser language.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from onesearch.evidence.tokenize import Tokenizer

__all__ = ["Bm25Index", "top_positive"]


class Bm25Index:
    """BM25 (Lucene variant, k1=1.2, b=0.75 by default) over tokenized documents."""

    def __init__(self, retriever, tokenizer: Tokenizer) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self.tokenizer = tokenizer
        self._vocab: dict[str, int] = retriever.vocab_dict
        self.size = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer, k1: float = 1.2, b: float = 0.75) -> Bm25Index:
        """Index ``texts`` (document i = row i)."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index([tokenizer(text) or [""] for text in texts], show_progress=False)
        return cls(retriever, tokenizer)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query``."""
        ids = [self._vocab[term] for term in self.tokenizer(query) if term in self._vocab]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write the index files and the analyser language into ``directory``."""
        self._retriever.save(str(directory), show_progress=False)
        (Path(directory) / "analyser.json").write_text(json.dumps({"language": self.tokenizer.language}))

    @classmethod
    def load(cls, directory: Path, tokenizer: Tokenizer | None = None) -> Bm25Index:
        """The index saved in ``directory`` (arrays memory-mapped); ``tokenizer`` is reused when it
        analyses the saved language (sharing its cache of analysed texts)."""
        import bm25s

        language = json.loads((Path(directory) / "analyser.json").read_text())["language"]
        retriever = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        return cls(retriever, tokenizer if tokenizer is not None and tokenizer.language == language else Tokenizer(language))


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive scores, best first (ties by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        positive.sort()
    return positive[np.argsort(-scores[positive], kind="stable")]
