"""The typo benchmark's generator: one seeded edit in one long enough word."""

from __future__ import annotations

from onesearch.catalog.typos import misspell


def _one_edit(a: str, b: str) -> bool:
    """Damerau distance exactly 1 (delete, insert, replace or adjacent swap)."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_each_query_gets_exactly_one_edit_in_one_word_of_four_letters_or_more():
    queries = ["cordless drill", "1 1/4 headless pins nails 23 ga", "ourdoor patio tile", "led light bulb 60w"]
    for seed in range(5):
        for query in queries:
            typo = misspell(query, seed)
            before, after = query.split(), typo.split(" ") if typo.count(" ") == query.count(" ") else None
            assert after is not None
            changed = [(a, b) for a, b in zip(before, after) if a != b]
            assert len(changed) == 1 and len(changed[0][0]) >= 4 and _one_edit(*changed[0])


def test_the_copy_is_seeded_and_short_words_are_left_alone():
    assert misspell("cordless drill", 3) == misspell("cordless drill", 3)
    assert len({misspell("cordless drill", s) for s in range(10)}) > 3
    assert misspell("ac 2x4 ga", 0) == "ac 2x4 ga"
