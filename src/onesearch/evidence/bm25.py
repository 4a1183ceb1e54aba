"""Lexical recall over ``bm25s``: an index that is a plain folder of .npy/.json files.

Contract: ``Bm25Index.build(texts, tokenizer)`` indexes documents 0..n-1; ``scores(query)``
returns the BM25 score of every document (float32, zero when no query term matches);
``save``/``load`` round-trip the index with its analyser language and mean document length.
``changed(change, tail_texts, base_texts)`` is the index of a changed catalog (``RowChange``)
without re-indexing it: the base index's scores for the kept rows, then the tail documents'
scores under the base's statistics (document frequencies, document count, mean length; a term
the base lacks counts its tail documents), as a segment of a Lucene index is scored until merged.
A new term's weight is therefore close to, not exactly, a full rebuild's; deleted rows' terms
keep counting in the frequencies until the next full build.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onesearch.evidence.items import RowChange
from onesearch.evidence.tokenize import Tokenizer

__all__ = ["Bm25Index", "top_positive"]


@dataclass(frozen=True)
class _Tail:
    """The tail documents of a changed index: per term, their rows and BM25 weights."""

    change: RowChange
    postings: dict[str, tuple[np.ndarray, np.ndarray]]


class Bm25Index:
    """BM25 (Lucene variant, k1=1.2, b=0.75 by default) over tokenized documents."""

    def __init__(self, retriever, tokenizer: Tokenizer, mean_length: float | None = None, tail: _Tail | None = None) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self.tokenizer = tokenizer
        self._vocab: dict[str, int] = retriever.vocab_dict
        self.mean_length = mean_length
        self._tail = tail
        self.size = len(tail.change) if tail is not None else int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer, k1: float = 1.2, b: float = 0.75) -> Bm25Index:
        """Index ``texts`` (document i = row i)."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index([tokenizer(text) or [""] for text in texts], show_progress=False)
        index = cls(retriever, tokenizer)
        index.mean_length = index.measure_mean_length(texts)  # the analysed texts are cached by the tokenizer
        return index

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query``."""
        terms = self.tokenizer(query)
        ids = [self._vocab[term] for term in terms if term in self._vocab]
        base = np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float32) if ids else None
        if self._tail is None:
            return base if base is not None else np.zeros(self.size, dtype=np.float32)
        change = self._tail.change
        out = np.zeros(self.size, dtype=np.float32)
        if base is not None:
            out[: len(change.kept)] = base[change.kept]
        for term in terms:
            rows, weights = self._tail.postings.get(term, (None, None))
            if rows is not None:
                out[len(change.kept) + rows] += weights
        return out

    def changed(self, change: RowChange, tail_texts: Sequence[str], base_texts: Sequence[str]) -> Bm25Index:
        """This (base) index over the catalog changed by ``change`` (module docstring);
        ``base_texts`` are the indexed texts, read only when the mean length was not stored."""
        if self._tail is not None:
            raise ValueError("derive a changed index from its base index")
        if self.mean_length is None:
            self.mean_length = self.measure_mean_length(base_texts)
        documents = [Counter(self.tokenizer(text) or [""]) for text in tail_texts]
        tail_frequency = Counter(term for document in documents for term in document)
        indptr, total = self._retriever.scores["indptr"], int(self._retriever.scores["num_docs"])
        k1, b = self._retriever.k1, self._retriever.b
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for row, document in enumerate(documents):
            norm = k1 * (1 - b + b * sum(document.values()) / self.mean_length)
            for term, tf in document.items():
                index = self._vocab.get(term)
                frequency = int(indptr[index + 1] - indptr[index]) if index is not None else tail_frequency[term]
                idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
                postings[term][0].append(row)
                postings[term][1].append(idf * tf / (tf + norm))
        arrays = {term: (np.array(rows, dtype=np.int64), np.array(weights, dtype=np.float32)) for term, (rows, weights) in postings.items()}
        return Bm25Index(self._retriever, self.tokenizer, self.mean_length, _Tail(change, arrays))

    def measure_mean_length(self, texts: Sequence[str]) -> float:
        """The mean length in terms of the indexed ``texts`` (what ``build`` stores; an index saved
        without it measures it so)."""
        return float(np.mean([len(self.tokenizer(text) or [""]) for text in texts])) if len(texts) else 1.0

    def save(self, directory: Path) -> None:
        """Write the index files, the analyser language and the mean document length into ``directory``."""
        if self._tail is not None:
            raise ValueError("a changed index lives in memory only")
        self._retriever.save(str(directory), show_progress=False)
        (Path(directory) / "analyser.json").write_text(json.dumps({"language": self.tokenizer.language, "mean_length": self.mean_length}))

    @classmethod
    def load(cls, directory: Path, tokenizer: Tokenizer | None = None) -> Bm25Index:
        """The index saved in ``directory`` (arrays memory-mapped); ``tokenizer`` is reused when it
        analyses the saved language (sharing its cache of analysed texts)."""
        import bm25s

        analyser = json.loads((Path(directory) / "analyser.json").read_text())
        language = analyser["language"]
        retriever = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        return cls(retriever, tokenizer if tokenizer is not None and tokenizer.language == language else Tokenizer(language), analyser.get("mean_length"))


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive scores, best first (ties by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        positive.sort()
    return positive[np.argsort(-scores[positive], kind="stable")]
