"""The model folder's helpers that need no trained model (the folder itself: tests/deploy, tests/cli)."""

from __future__ import annotations

import numpy as np

from onesearch.generative.folder import _taken


def test_taken_holds_exactly_the_full_codes_a_new_prefix_can_collide_with():
    rng = np.random.default_rng(0)
    codes = np.unique(rng.integers(0, 5, size=(400, 4)), axis=0)
    prefixes = np.array([[1, 2, 3], [4, 0, 0], [9, 9, 9]])
    wanted = {tuple(p) for p in prefixes.tolist()}
    assert _taken(codes, prefixes) == {tuple(c) for c in codes.tolist() if tuple(c[:3]) in wanted}
    assert _taken(codes, prefixes[2:]) == set()
