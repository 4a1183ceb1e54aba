"""``PlannedSearcher`` over an untrained anchored model: exhaustive scoring is exact dense retrieval,
the beam only returns real items, evidence moves items, filters hold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from onesearch.decoding import planned
from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.tree import CodeTree
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import CodebookConfig, SemanticIdCodebook
from onesearch.generative.parts import node_vectors
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

DIM, ITEMS, FEATURES = 16, 300, 3


class _Plan:
    def __init__(self, rows: list[int], value: float = 1.0) -> None:
        self.rows = np.array(rows, dtype=np.int64)
        self.features = np.full((len(rows), FEATURES), value, dtype=np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def parts():
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(ITEMS, DIM)))
    ids = [f"i{n}" for n in range(ITEMS)]
    codebook = SemanticIdCodebook.fit(vectors, ids, CodebookConfig(levels=(8, 4), balanced_last=False, opq_subcodes=0))
    codes = np.concatenate([codebook.codes, codebook.suffix[:, None]], axis=1)
    tree = CodeTree(codes)
    nodes = node_vectors(codebook, codes, vectors, tree)
    queries = _unit(rng.normal(size=(5, DIM)))
    return ids, codes, vectors, tree, nodes, queries, codebook


def _searcher(parts, plan=lambda r, extra: _Plan([]), **kwargs) -> PlannedSearcher:
    ids, codes, _, tree, nodes, queries, _ = parts
    torch.manual_seed(0)
    model = AnchoredDecoder(AnchoredConfig(dim=DIM, nodes=tree.counts, evidence=FEATURES + 1), [torch.from_numpy(v) for v in nodes])
    lookup = {f"q{n}": queries[n] for n in range(len(queries))}
    return PlannedSearcher(model, ids, codes, lambda texts: np.stack([lookup[t] for t in texts]), plan, np.zeros((len(ids), 1), dtype=np.float32), **kwargs)


def _requests(n: int = 5) -> list[SearchRequest]:
    return [SearchRequest(f"q{i}", UserContext(None)) for i in range(n)]


def test_untrained_exhaustive_scoring_is_exact_dense_retrieval(parts):
    _, _, vectors, _, _, queries, _ = parts
    found = _searcher(parts, exhaustive=True).search(_requests(), 20)
    for query, hits in zip(queries, found):
        expected = np.argsort(-(vectors @ query), kind="stable")[:20]
        assert [h.item_id for h in hits] == [f"i{r}" for r in expected]


def test_prefix_nodes_are_the_codebooks_reconstructions(parts):
    _, codes, vectors, tree, nodes, _, codebook = parts
    rebuilt = codebook.prefix_reconstructions(codes[:, :-1])
    for depth in range(len(rebuilt)):
        assert np.allclose(nodes[depth][tree.paths[:, depth]], rebuilt[depth], atol=1e-6)
    assert np.allclose(nodes[-1][tree.paths[:, -1]], vectors)


def test_beam_returns_distinct_real_items_best_first_and_a_wide_beam_is_exhaustive(parts):
    narrow = _searcher(parts, beam=10, exhaustive=False).search(_requests(), 10)
    for hits in narrow:
        assert len(hits) == 10 and len({h.item_id for h in hits}) == 10
        assert all(h.item_id in set(parts[0]) for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    wide = _searcher(parts, beam=ITEMS, exhaustive=False).search(_requests(), 20)
    exact = _searcher(parts, exhaustive=True).search(_requests(), 20)
    assert [[h.item_id for h in hits] for hits in wide] == [[h.item_id for h in hits] for hits in exact]


def test_planned_evidence_changes_scores_only_once_the_model_reads_it(parts):
    plain = _searcher(parts, exhaustive=True).search(_requests(1), 5)[0]
    searcher = _searcher(parts, plan=lambda r, extra: _Plan([299], 1.0), exhaustive=True)
    assert [h.item_id for h in searcher.search(_requests(1), 5)[0]] == [h.item_id for h in plain]
    with torch.no_grad():
        searcher.model.linear[-1].weight[0, 1] = 100.0  # the first request-evidence column
    searcher.sync()  # the exhaustive scorer's tables follow the weights it is told of
    assert searcher.search(_requests(1), 1)[0][0].item_id == "i299"


def test_the_rewrite_reaches_both_the_encoder_and_the_planner(parts):
    planned = []
    searcher = _searcher(parts, plan=lambda r, extra: planned.append(r.query) or _Plan([]), exhaustive=True, rewrite=lambda q: q.replace("typo", "q"))
    found = searcher.search([SearchRequest("typo1", UserContext(None))], 5)[0]
    assert planned == ["q1"]
    assert [h.item_id for h in found] == [h.item_id for h in _searcher(parts, exhaustive=True).search(_requests(2), 5)[1]]


def test_a_restriction_generates_only_the_allowed_items(parts):
    allowed = {"i3", "i50", "i120", "i299"}
    for exhaustive in (False, True):
        found = _searcher(parts, beam=50, exhaustive=exhaustive).restricted(allowed).search(_requests(), 10)
        assert all({h.item_id for h in hits} == allowed for hits in found)
    with pytest.raises(ValueError):
        _searcher(parts).restricted({"nope"})


def test_the_dense_plan_joins_the_lexical_plan_with_fused_ranks():
    from onesearch.decoding.planned import dense_plan

    lexical = _Plan([2, 5])
    lexical.features[:, 0] = [1.0, 0.5]  # reciprocal lexical ranks 1 and 2
    joined = dense_plan(lexical, np.array([5, 9]), lexical_rank=0)
    assert joined.rows.tolist() == [2, 5, 9]
    assert joined.features[:, -3].tolist() == [0.0, 1.0, 0.5]
    assert np.allclose(joined.features[:, -2], [0.0, 1.0, 1.0 - np.log(2) / np.log(3)])  # log ranks over the 2 dense rows
    expected = [1 / 61, 1 / 61 + 1 / 62, 1 / 62]
    assert np.allclose(joined.features[:, -1], np.array(expected) * 30.0)
    assert joined.features[2, :FEATURES].tolist() == [0.0] * FEATURES


def test_the_dense_plan_rows_are_the_exact_dense_top_items(parts):
    _, _, vectors, _, _, queries, _ = parts
    found = _searcher(parts, dense_depth=30).dense_top(torch.from_numpy(queries))
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :30]
    assert all(set(f) == set(e) for f, e in zip(found.tolist(), exact.tolist()))


def test_small_catalogs_are_scored_exhaustively_unless_told_otherwise(parts, monkeypatch):
    assert _searcher(parts).exhaustive and not _searcher(parts, exhaustive=False).exhaustive
    assert [[h.item_id for h in hits] for hits in _searcher(parts).search(_requests(), 20)] == \
        [[h.item_id for h in hits] for hits in _searcher(parts, exhaustive=True).search(_requests(), 20)]
    monkeypatch.setattr(planned, "EXHAUSTIVE_ITEMS", ITEMS - 1)
    assert not _searcher(parts).exhaustive


@pytest.mark.parametrize("exhaustive", [False, True])
def test_an_empty_query_of_a_known_user_takes_the_behaviour_vector_without_the_encoder(parts, exhaustive):
    ids, codes, vectors, tree, nodes, queries, _ = parts
    encoded = []
    searcher = _searcher(parts, exhaustive=exhaustive, beam=ITEMS, behaviour_query=True)
    searcher.query_vectors = lambda texts: encoded.extend(texts) or np.stack([queries[0] for _ in texts])
    user = UserContext("u", history=(HistoryEvent("i7", InteractionType.CLICK),))
    found = searcher.search([SearchRequest("", user), SearchRequest("", UserContext(None)), SearchRequest("q0", user)], 5)
    assert encoded == ["", "q0"]  # the cold user's empty query is still encoded
    assert found[0][0].item_id == "i7"  # untrained: the state is the behaviour vector, i7's own
    ranked = [[h.item_id for h in hits] for hits in found]
    assert ranked[1] == ranked[2] != ranked[0]
    off = _searcher(parts, exhaustive=exhaustive, beam=ITEMS)
    off.query_vectors = searcher.query_vectors
    assert [h.item_id for h in off.search([SearchRequest("", user)], 5)[0]] == ranked[1] and encoded[-1] == ""


def _trained(searcher: PlannedSearcher) -> PlannedSearcher:
    """``searcher`` with random evidence and state weights, so plans and users move the beam."""
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in (*searcher.model.evidence.parameters(), *searcher.model.linear.parameters(), *searcher.model.query.parameters()):
            parameter.normal_(0.0, 0.5)
    searcher.sync()
    return searcher


def test_a_beam_narrower_than_the_list_still_fills_it_with_the_nodes_that_hold_k_items(parts):
    for hits in _searcher(parts, beam=2, exhaustive=False).search(_requests(), 40):  # 2 of 8 first-depth nodes hold about 75 items, 2 second-depth ones about 20
        assert len(hits) == 40 and len({h.item_id for h in hits}) == 40
    top, group, sizes = np.arange(7), np.array([0, 0, 0, 0, 1, 1, 1]), np.array([1, 1, 5, 9, 10, 1, 1])
    assert planned.covering(top, group, sizes, 2, 5).tolist() == [0, 1, 2, 4, 5]  # group 0: the beam's 2 hold 2 items, the third reaches 7; group 1: the beam's 2 hold 11


def test_a_page_is_walked_with_the_page_beam_and_a_longer_list_with_the_beam(parts):
    paged = _searcher(parts, beam=ITEMS, page_beam=2, exhaustive=False)
    assert (paged.beam_for(planned.PAGE), paged.beam_for(planned.PAGE + 1)) == (2, ITEMS)
    ids = lambda found: [[h.item_id for h in hits] for hits in found]  # noqa: E731
    assert ids(paged.search(_requests(), 10)) == ids(_searcher(parts, beam=2, exhaustive=False).search(_requests(), 10))
    assert ids(paged.search(_requests(), 40)) == ids(_searcher(parts, beam=ITEMS, exhaustive=False).search(_requests(), 40))
    assert ids(paged.search(_requests(), 10)) != ids(_searcher(parts, beam=ITEMS, exhaustive=False).search(_requests(), 10))  # the narrow page beam does change something here


@pytest.mark.parametrize("allowed", [None, {f"i{n}" for n in range(0, ITEMS, 3)}])
def test_a_batch_walks_to_the_same_hits_as_each_request_alone(parts, allowed):
    plans = {f"q{n}": _Plan(list(range(n * 40, n * 40 + 25)), 0.2 * (n + 1)) for n in range(5)}
    searcher = _trained(_searcher(parts, plan=lambda r, extra: plans[r.query], beam=12, exhaustive=False))
    searcher = searcher if allowed is None else searcher.restricted(allowed)
    batch = searcher.search(_requests(), 15)
    alone = [searcher.search([request], 15)[0] for request in _requests()]
    assert [[h.item_id for h in hits] for hits in batch] == [[h.item_id for h in hits] for hits in alone]
    assert np.allclose([[h.score for h in hits] for hits in batch], [[h.score for h in hits] for hits in alone], atol=1e-5)
    assert len({tuple(h.item_id for h in hits) for hits in batch}) == 5


def test_segment_top_keeps_each_groups_best_in_order():
    scores = torch.tensor([0.1, 0.9, 0.5, 3.0, 2.0, 1.0, 4.0])
    group = np.array([1, 1, 1, 3, 3, 3, 3])
    top = planned.segment_top(scores, group, 4, 2)
    assert top.tolist() == [1, 2, 6, 3]  # group 1: 0.9, 0.5; groups 0 and 2: none; group 3: 4.0, 3.0
    assert planned.segment_top(scores[:3], group[:3] * 0, 1, 5).tolist() == [1, 2, 0]


def test_the_behaviour_vector_weighs_history_steps_by_the_decay():
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    last_only = planned.user_vectors([[0, 1], []], items, 0.0)
    assert torch.allclose(last_only[0], torch.tensor([0.0, 1.0])) and not last_only[1].any()
    even = planned.user_vectors([[0, 1]], items, 1.0)
    assert torch.allclose(even[0], torch.tensor([1.0, 1.0]) / 2**0.5)
    halved = planned.user_vectors([[0, 1]], items, 0.5)[0]
    assert torch.allclose(halved, torch.tensor([0.5, 1.0]) / 1.25**0.5)
    assert planned.user_vectors([[], []], items, 0.5) is None
