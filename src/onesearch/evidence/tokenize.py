"""Lexical analysis for BM25 and overlap features: English stemming or Chinese segmentation.

Contract: ``Tokenizer(language)`` maps a text to a list of terms; ``"en"`` lowercases, splits on
word characters, drops English stop words and stems with PyStemmer (Snowball English);
``"zh"`` segments with jieba (search mode) and treats Latin words as in ``"en"``; ``"ngram"``
lowercases, drops English stop words and cuts each word into character 3-grams with boundary
marks (``drill`` -> ``#dr dri ril ill ll#``), so a misspelt word still shares most of its terms.
Analysed texts are cached per instance (``TEXTS_CACHED``). ``detect_language`` picks ``"zh"`` when CJK characters make up a notable share of the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

__all__ = ["Language", "Tokenizer", "detect_language"]

Language = Literal["en", "zh", "ngram"]
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_SHARE = 0.05
TEXTS_CACHED = 1 << 18  # analysed texts kept per tokenizer: a catalog rebuild re-analyses only changed texts


def detect_language(texts: Sequence[str]) -> Language:
    """``"zh"`` when over 5% of the characters of ``texts`` (a sample is enough) are CJK."""
    sample = "".join(texts[:2000])
    return "zh" if sample and len(_CJK.findall(sample)) / len(sample) > _CJK_SHARE else "en"


class Tokenizer:
    """Text -> terms; the same instance must analyse the catalog and the queries."""

    def __init__(self, language: Language = "en") -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        self.language = language
        self._stem = Stemmer.Stemmer("english").stemWord
        self._stopwords = frozenset(STOPWORDS_EN)
        self._cache: dict[str, str] = {}
        self._terms = lru_cache(maxsize=TEXTS_CACHED)(self._analyse)

    def __call__(self, text: str) -> list[str]:
        return list(self._terms(text))

    def _analyse(self, text: str) -> tuple[str, ...]:
        text = text.lower()
        if self.language == "ngram":
            return tuple(gram for word in _WORD.findall(text) if word not in self._stopwords for gram in _grams(f"#{word}#"))
        if self.language == "zh":
            import jieba

            pieces = [piece for chunk in jieba.lcut_for_search(text) for piece in _WORD.findall(chunk)]
        else:
            pieces = _WORD.findall(text)
        return tuple(self._stem_cached(word) for word in pieces if word not in self._stopwords)

    def _stem_cached(self, word: str) -> str:
        stem = self._cache.get(word)
        if stem is None:
            stem = self._cache[word] = self._stem(word)
        return stem


def _grams(word: str, n: int = 3) -> list[str]:
    """Character ``n``-grams of a boundary-marked word (the word itself when shorter)."""
    return [word[i : i + n] for i in range(len(word) - n + 1)] or [word]
