"""Seeded misspellings of queries: the typo benchmark's generator.

Contract: ``misspell(query, seed)`` returns the query with exactly one edit — a character
deleted, two neighbours swapped, one replaced or one inserted (each equally likely) — in one word
of at least ``MIN_LETTERS`` letters (chosen uniformly); a query without such a word comes back
unchanged. The edit depends only on (seed, query), so a misspelled copy of a split is the same on
every machine and in every run; an edit that would give back the same word is redrawn.
"""

from __future__ import annotations

import hashlib
import random
import re
import string

__all__ = ["MIN_LETTERS", "misspell"]

MIN_LETTERS = 4
_WORD = re.compile(r"[A-Za-z]+")
_EDITS = ("delete", "swap", "replace", "insert")


def misspell(query: str, seed: int = 0) -> str:
    """``query`` with one seeded edit in one word of at least ``MIN_LETTERS`` letters."""
    words = [m for m in _WORD.finditer(query) if len(m.group()) >= MIN_LETTERS]
    if not words:
        return query
    rng = random.Random(hashlib.sha256(f"{seed}\x00{query}".encode()).hexdigest())
    match = rng.choice(words)
    word = match.group()
    edited = word
    while edited == word:
        edited = _edit(word, rng.choice(_EDITS), rng)
    return query[: match.start()] + edited + query[match.end() :]


def _edit(word: str, kind: str, rng: random.Random) -> str:
    letters = string.ascii_lowercase
    if kind == "delete":
        i = rng.randrange(len(word))
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "replace":
        i = rng.randrange(len(word))
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    i = rng.randrange(len(word) + 1)
    return word[:i] + rng.choice(letters) + word[i:]
