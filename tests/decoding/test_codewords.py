"""``SharedCodewords``: residual k-means levels and OPQ positions factorize over their parents,
the factorized scores are the direct inner products, and the beam over them returns the same items."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from onesearch.decoding.codewords import SharedCodewords
from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.tree import CodeTree
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import CodebookConfig, SemanticIdCodebook
from onesearch.generative.parts import node_vectors
from onesearch.types import SearchRequest, UserContext

DIM, ITEMS = 16, 1200


@pytest.fixture(scope="module")
def catalog():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(ITEMS, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    codebook = SemanticIdCodebook.fit(vectors, [f"i{n}" for n in range(ITEMS)], CodebookConfig(levels=(8, 4), balanced_last=False, opq_subcodes=2, opq_bits=4))
    codes = np.concatenate([codebook.codes, codebook.suffix[:, None]], axis=1)
    tree = CodeTree(codes)
    return vectors, codes, tree, node_vectors(codebook, codes, vectors, tree)


def _code(tree: CodeTree, codes: np.ndarray, depth: int) -> np.ndarray:
    code = np.zeros(tree.counts[depth], dtype=np.int64)
    code[tree.paths[:, depth]] = codes[:, depth]
    return code


def test_codebook_depths_factorize_and_score_as_the_direct_products(catalog):
    _, codes, tree, nodes = catalog
    state = torch.from_numpy(np.random.default_rng(1).normal(size=DIM).astype(np.float32))
    for depth in range(1, tree.depth - 1):  # residual level 2, then both OPQ positions
        shared = SharedCodewords.find(nodes[depth], nodes[depth - 1], tree.parent_of[depth], _code(tree, codes, depth))
        assert shared is not None and len(shared.table) <= 16
        parents = np.arange(tree.counts[depth - 1])
        owners, children = tree.children(parents, depth)
        direct = torch.from_numpy(nodes[depth][children]) @ state
        torch.testing.assert_close(shared.dense(state, parents, owners, children), direct, atol=1e-5, rtol=1e-5)
        states = torch.from_numpy(np.random.default_rng(depth).normal(size=(3, DIM)).astype(np.float32))
        request = np.sort(np.random.default_rng(depth).integers(0, 3, size=len(parents)))  # a batch: each parent asked by one of 3 states
        batch = (torch.from_numpy(nodes[depth][children]) * states[request[owners]]).sum(1)
        torch.testing.assert_close(shared.dense(states, parents, owners, children, request), batch, atol=1e-5, rtol=1e-5)


def test_the_items_own_vectors_do_not_factorize(catalog):
    _, codes, tree, nodes = catalog
    last = tree.depth - 1
    assert SharedCodewords.find(nodes[last], nodes[last - 1], tree.parent_of[last], _code(tree, codes, last)) is None


def test_the_beam_over_shared_codewords_returns_the_items_of_the_direct_beam(catalog):
    vectors, codes, tree, nodes = catalog
    model = AnchoredDecoder(AnchoredConfig(dim=DIM, nodes=tree.counts, evidence=2), [torch.from_numpy(v) for v in nodes])
    queries = {f"q{n}": v for n, v in enumerate(np.random.default_rng(2).normal(size=(6, DIM)).astype(np.float32))}
    searcher = PlannedSearcher(model, [f"i{n}" for n in range(ITEMS)], codes, lambda texts: np.stack([queries[t] for t in texts]),
                               lambda request, extra: _NoPlan(), np.zeros((ITEMS, 1), dtype=np.float32), beam=20, exhaustive=False)
    assert sum(shared is not None for shared in searcher.codewords) == tree.depth - 2
    requests = [SearchRequest(text, UserContext(None)) for text in queries]
    factorized = searcher.search(requests, 20)
    searcher.codewords = [None] * tree.depth
    assert [[h.item_id for h in hits] for hits in factorized] == [[h.item_id for h in hits] for hits in searcher.search(requests, 20)]


class _NoPlan:
    rows = np.zeros(0, dtype=np.int64)
    features = np.zeros((0, 1), dtype=np.float32)
