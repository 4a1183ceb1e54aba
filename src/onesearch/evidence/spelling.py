"""Query spelling correction against a catalog's own vocabulary (SymSpell).

Contract: ``Speller.from_texts(texts)`` counts the alphabetic words of the item texts;
``correct(query)`` replaces each whitespace-separated, purely alphabetic query word of at least
``MIN_LETTERS`` letters that the vocabulary lacks by its nearest vocabulary word (Damerau
distance at most 1, at most 2 for words of ``LONG_WORD`` letters or more; among equals the most
frequent), lower-cased; every other word, and a word with no such neighbour, is kept as typed.
A query of known words comes back unchanged, so correction costs nothing on clean queries
beyond the lookups. Deterministic for a given vocabulary. ``extended(texts)`` is the speller of
a grown catalog without rebuilding the base's dictionary: the new words get a small dictionary of
their own, and a lookup takes the best suggestion of both (words of removed items stay until the
next full build).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from symspellpy import SymSpell, Verbosity

__all__ = ["LONG_WORD", "MIN_LETTERS", "Speller"]

MIN_LETTERS = 3
LONG_WORD = 8
_WORD = re.compile(r"[a-z]+")
_ALPHABETIC = re.compile(r"[A-Za-z]+")


class Speller:
    """Corrects query words outside a vocabulary to their nearest vocabulary word."""

    def __init__(self, counts: Counter[str], base: Speller | None = None) -> None:
        self.vocabulary = frozenset(counts) | (base.vocabulary if base is not None else frozenset())
        symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in sorted(counts.items()):
            symspell.create_dictionary_entry(word, count)
        self._dictionaries: tuple[SymSpell, ...] = (*(base._dictionaries if base is not None else ()), symspell)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Speller:
        """The speller of the words of ``texts`` (lower-cased runs of letters, with their counts)."""
        return cls(_counts(texts))

    def extended(self, texts: Iterable[str]) -> Speller:
        """This speller with the words of ``texts`` it lacks (module docstring)."""
        counts = _counts(texts)
        return Speller(Counter({word: count for word, count in counts.items() if word not in self.vocabulary}), self)

    def correct(self, query: str) -> str:
        """``query`` with its unknown words corrected (see module docstring)."""
        return re.sub(r"\S+", lambda match: self._word(match.group()), query)

    def _word(self, word: str) -> str:
        lowered = word.lower()
        if len(word) < MIN_LETTERS or not _ALPHABETIC.fullmatch(word) or lowered in self.vocabulary:
            return word
        distance = 2 if len(word) >= LONG_WORD else 1
        suggestions = [s for symspell in self._dictionaries for s in symspell.lookup(lowered, Verbosity.TOP, max_edit_distance=distance)]
        return min(suggestions, key=lambda s: (s.distance, -s.count, s.term)).term if suggestions else word


def _counts(texts: Iterable[str]) -> Counter[str]:
    """Lower-cased runs of letters of ``texts`` (at least ``MIN_LETTERS``), with their counts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word in _WORD.findall(text.lower()) if len(word) >= MIN_LETTERS)
    return counts
