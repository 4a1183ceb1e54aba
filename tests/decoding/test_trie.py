import numpy as np
import pytest

from onesearch.decoding.trie import SidTrie

CODES = np.array([[0, 1, 2], [0, 1, 0], [1, 0, 0], [0, 2, 1]])
SIZES = (2, 3, 3)


def test_masks_follow_the_codes():
    trie = SidTrie(CODES, SIZES)
    assert trie.mask(np.array([0]), 0).tolist() == [[True, True]]
    first = trie.advance(np.array([0, 0]), 0, np.array([0, 1]))
    # after 0: second values 1 or 2; after 1: only 0
    assert trie.mask(first, 1).tolist() == [[False, True, True], [True, False, False]]
    node = trie.advance(first[:1], 1, np.array([1]))
    assert trie.mask(node, 2).tolist() == [[True, False, True]]
    leaf = trie.advance(node, 2, np.array([2]))
    assert trie.code_of(leaf).tolist() == [[0, 1, 2]]


def test_invalid_steps_lead_nowhere_and_have_no_continuation():
    trie = SidTrie(CODES, SIZES)
    dead = trie.advance(np.array([0]), 0, np.array([1]))
    dead = trie.advance(dead, 1, np.array([2]))  # (1, 2) is not a prefix
    assert dead.tolist() == [-1]
    assert not trie.mask(dead, 2).any()


@pytest.mark.parametrize("seed", range(5))
def test_every_walk_through_masks_ends_on_a_real_code(seed):
    rng = np.random.default_rng(seed)
    sizes = (4, 3, 5, 2)
    codes = np.unique(np.stack([rng.integers(0, s, 60) for s in sizes], axis=1), axis=0)
    trie = SidTrie(codes, sizes)
    assert len(trie) == len(codes)
    valid = {tuple(c) for c in codes.tolist()}
    for _ in range(50):
        node = np.zeros(1, dtype=np.int64)
        path = []
        for depth in range(len(sizes)):
            allowed = np.flatnonzero(trie.mask(node, depth)[0])
            assert len(allowed) > 0
            value = int(rng.choice(allowed))
            path.append(value)
            node = trie.advance(node, depth, np.array([value]))
        assert tuple(path) in valid and tuple(trie.code_of(node)[0]) == tuple(path)


def test_out_of_range_codes_are_refused():
    with pytest.raises(ValueError):
        SidTrie(np.array([[0, 3]]), (2, 3))
