"""``Transitions.followers`` against a plain dictionary count, ties and leave-one-out included."""

from __future__ import annotations

import numpy as np

from onesearch.evidence.transitions import Transitions


def _reference(pairs: list[tuple[int, int]], history: list[int], exclude: set[tuple[int, int]]) -> dict[int, float]:
    counts: dict[int, dict[int, int]] = {}
    for before, after in pairs:
        counts.setdefault(before, {})
        counts[before][after] = counts[before].get(after, 0) + 1
    out: dict[int, float] = {}
    for age, previous in enumerate(reversed(history[-3:])):
        for following, count in counts.get(previous, {}).items():
            count -= (previous, following) in exclude
            if count > 0:
                out[following] = out.get(following, 0.0) + 0.5**age * float(np.log1p(count))
    return out


def test_followers_match_a_plain_count_in_first_follow_order():
    rng = np.random.default_rng(0)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, 6, size=(300, 2))]
    transitions = Transitions.from_array(Transitions.fit(pairs).to_array())
    for history, exclude in (([1, 2, 3], set()), ([0, 4, 4, 5], {(5, 1), (4, 2)}), ([9], set()), ([], set())):
        rows, scores = transitions.followers(history, exclude)
        expected = _reference(pairs, history, exclude)
        assert rows.tolist() == list(expected) and scores.tolist() == list(expected.values())


def test_an_excluded_single_pair_leaves_no_follower():
    rows, scores = Transitions.fit([(1, 2)]).followers([1], {(1, 2)})
    assert rows.tolist() == [] and scores.tolist() == []


def test_preceders_are_the_followers_of_the_reversed_pairs_and_keep_leave_one_out():
    rng = np.random.default_rng(1)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, 6, size=(300, 2))]
    transitions, reversed_pairs = Transitions.fit(pairs), Transitions.fit([(b, a) for a, b in pairs])
    for history, exclude in (([1, 2, 3], set()), ([0, 4, 4, 5], {(1, 5), (2, 4)})):
        rows, scores = transitions.preceders(history, exclude)
        expected = reversed_pairs.followers(history, {(b, a) for a, b in exclude})
        assert dict(zip(rows.tolist(), scores.tolist())) == dict(zip(expected[0].tolist(), expected[1].tolist())) and len(rows)
