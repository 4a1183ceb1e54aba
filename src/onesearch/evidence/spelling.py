"""Query spelling correction against a catalog's own vocabulary (SymSpell).

Contract: ``Speller.from_texts(texts)`` counts the alphabetic words of the item texts;
``correct(query)`` replaces each whitespace-separated, purely alphabetic query word of at least
``MIN_LETTERS`` letters that the vocabulary lacks by its nearest vocabulary word (Damerau
distance at most 1, at most 2 for words of ``LONG_WORD`` letters or more; among equals the most
frequent), lower-cased; every other word, and a word with no such neighbour, is kept as typed.
A query of known words comes back unchanged, so correction costs nothing on clean queries
beyond the lookups. Deterministic for a given vocabulary.
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

    def __init__(self, counts: Counter[str]) -> None:
        self.vocabulary = frozenset(counts)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in sorted(counts.items()):
            self._symspell.create_dictionary_entry(word, count)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Speller:
        """The speller of the words of ``texts`` (lower-cased runs of letters, with their counts)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(word for word in _WORD.findall(text.lower()) if len(word) >= MIN_LETTERS)
        return cls(counts)

    def correct(self, query: str) -> str:
        """``query`` with its unknown words corrected (see module docstring)."""
        return re.sub(r"\S+", lambda match: self._word(match.group()), query)

    def _word(self, word: str) -> str:
        lowered = word.lower()
        if len(word) < MIN_LETTERS or not _ALPHABETIC.fullmatch(word) or lowered in self.vocabulary:
            return word
        suggestions = self._symspell.lookup(lowered, Verbosity.TOP, max_edit_distance=2 if len(word) >= LONG_WORD else 1)
        return suggestions[0].term if suggestions else word
