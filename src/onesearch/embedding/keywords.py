"""Attribute keywords: mined from a catalog, matched in item and query text, fused into vectors.

Contract: ``mine_keywords(items)`` builds a typed keyword pool from the catalog itself — brand
fields (``brand``), category path levels (``entity`` for the leaf, ``category`` above it),
attribute values (typed by their key: ``colour``, ``material``, ``style``, ``specification``,
``audience``, ``pattern``, ``function``, else ``attribute``) and frequent title n-grams
(``colour`` / ``material`` when a closed lexicon knows the word, else ``modifier``).
``KeywordMatcher`` finds pool keywords in any text with one Aho-Corasick pass: case-folded,
Latin keywords only on word boundaries, Chinese anywhere, overlapping matches resolved
longest-first. ``fuse(vector, keyword_vectors)`` = l2norm(0.5·e + 0.5·mean(e_k)); with no
match the vector is returned unchanged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Keyword", "KeywordMatcher", "fuse", "mine_keywords"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ATTRIBUTE_TYPES = {
    "colour": ("color", "colour", "颜色"),
    "material": ("material", "fabric", "材质", "材料"),
    "style": ("style", "风格", "款式"),
    "specification": ("size", "dimension", "capacity", "weight", "volume", "规格", "尺寸", "容量"),
    "audience": ("gender", "age", "audience", "适用人群"),
    "pattern": ("pattern", "图案"),
    "function": ("function", "feature", "功能"),
}
_COLOURS = frozenset("black white red blue green yellow orange purple pink brown gray grey silver gold beige ivory navy bronze chrome nickel almond bisque espresso".split())
_MATERIALS = frozenset("wood wooden steel stainless aluminum aluminium brass copper iron plastic vinyl pvc cotton leather wool silk glass ceramic porcelain granite marble concrete rubber nylon polyester oak cedar pine maple walnut bamboo".split())
_STOPWORDS = frozenset("a an and the of for in on with to by at from or x ft in. oz lb".split())


@dataclass(frozen=True)
class Keyword:
    """One pool entry: normalized text, attribute type and catalog frequency."""

    text: str
    type: str
    count: int


def mine_keywords(
    titles: Sequence[str],
    brands: Sequence[str | None] = (),
    categories: Sequence[Sequence[str] | None] = (),
    attributes: Sequence[dict[str, str] | None] = (),
    min_count: int = 20,
    max_share: float = 0.05,
    max_ngram: int = 3,
) -> list[Keyword]:
    """The typed keyword pool of a catalog (explicit fields first, then title n-grams)."""
    pool: dict[str, Keyword] = {}

    def add(counts: Counter[str], kind: str, minimum: int = 1) -> None:
        for text, count in counts.items():
            if count >= minimum and text not in pool and _usable(text):
                pool[text] = Keyword(text, kind, count)

    add(Counter(b.strip().lower() for b in brands if b), "brand")
    add(Counter(c[-1].strip().lower() for c in categories if c), "entity")
    add(Counter(level.strip().lower() for c in categories if c for level in c[:-1]), "category")
    for kind, keys in _ATTRIBUTE_TYPES.items():
        add(Counter(v.strip().lower() for a in attributes if a for k, v in a.items() if k.lower() in keys), kind)
    add(Counter(v.strip().lower() for a in attributes if a for k, v in a.items() if not any(k.lower() in keys for keys in _ATTRIBUTE_TYPES.values())), "attribute", min_count)
    ngrams = _title_ngrams(titles, max_ngram)
    limit = max(min_count, int(max_share * len(titles)))
    for text, count in ngrams.most_common():
        if min_count <= count <= limit and text not in pool and _usable(text):
            pool[text] = Keyword(text, _ngram_type(text), count)
    return sorted(pool.values(), key=lambda k: (-k.count, k.text))


class KeywordMatcher:
    """Aho-Corasick over a keyword pool; ``match(text)`` -> keywords found, longest first wins."""

    def __init__(self, keywords: Iterable[Keyword]) -> None:
        import ahocorasick

        self.keywords = list(keywords)
        self._automaton = ahocorasick.Automaton()
        for index, keyword in enumerate(self.keywords):
            self._automaton.add_word(keyword.text, (index, len(keyword.text)))
        if self.keywords:
            self._automaton.make_automaton()

    def match(self, text: str) -> list[Keyword]:
        """Non-overlapping matches in text order; a match inside a longer one is dropped."""
        if not self.keywords:
            return []
        folded = text.lower()
        spans = []
        for end, (index, length) in self._automaton.iter(folded):
            start = end - length + 1
            if _bounded(folded, start, end + 1, self.keywords[index].text):
                spans.append((start, end + 1, index))
        taken: list[tuple[int, int, int]] = []
        for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
            if all(span[1] <= t[0] or span[0] >= t[1] for t in taken):
                taken.append(span)
        return [self.keywords[index] for _, _, index in sorted(taken)]


def fuse(vector: np.ndarray, keyword_vectors: np.ndarray) -> np.ndarray:
    """l2norm(0.5·vector + 0.5·mean(keyword_vectors)); ``vector`` itself when there are none."""
    if not len(keyword_vectors):
        return vector
    fused = 0.5 * vector + 0.5 * np.asarray(keyword_vectors, dtype=np.float32).mean(axis=0)
    norm = np.linalg.norm(fused)
    return (fused / norm).astype(np.float32) if norm > 0 else vector


class KeywordFuser:
    """Vectors of texts fused with the vectors of the pool keywords found in each text."""

    def __init__(self, keywords: Sequence[Keyword], keyword_vectors: np.ndarray) -> None:
        self.matcher = KeywordMatcher(keywords)
        self.row_of = {k.text: row for row, k in enumerate(keywords)}
        self.keyword_vectors = np.asarray(keyword_vectors, dtype=np.float32)

    def keywords(self, text: str) -> list[str]:
        """The pool keywords found in ``text``, in text order."""
        return [k.text for k in self.matcher.match(text)]

    def fused(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Row i: ``fuse(vectors[i], vectors of the keywords of texts[i])``."""
        out = np.asarray(vectors, dtype=np.float32).copy()
        for row, text in enumerate(texts):
            found = [self.row_of[k] for k in self.keywords(text)]
            if found:
                out[row] = fuse(out[row], self.keyword_vectors[found])
        return out


def _title_ngrams(titles: Sequence[str], max_ngram: int) -> Counter[str]:
    """Document frequency of word n-grams (Latin) and of words (CJK runs are kept whole)."""
    counts: Counter[str] = Counter()
    for title in titles:
        words = _WORD.findall(title.lower())
        grams = {" ".join(words[i : i + n]) for n in range(1, max_ngram + 1) for i in range(len(words) - n + 1)}
        counts.update(grams)
    return counts


def _usable(text: str) -> bool:
    words = text.split()
    return bool(text) and len(text) >= 2 and not all(w in _STOPWORDS or w.replace(".", "").isdigit() for w in words) and words[0] not in _STOPWORDS and words[-1] not in _STOPWORDS


def _ngram_type(text: str) -> str:
    words = set(text.split())
    return "colour" if words <= _COLOURS else "material" if words <= _MATERIALS else "modifier"


def _bounded(text: str, start: int, end: int, keyword: str) -> bool:
    """Latin keywords must start and end on word boundaries; CJK keywords match anywhere."""
    if _CJK.search(keyword):
        return True
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())
