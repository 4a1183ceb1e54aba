"""``PlannedSearcher``: the anchored decoder generating item codes depth by depth, with the look-ahead
plan's evidence pooled up the code trie.

Contract: built from a trained ``AnchoredDecoder``, the catalog's full codes (row i = item i, the
rows the planner speaks of), a query encoder (texts -> unit vectors in the codebook's space), a
planner ((request, extra rows) -> object with ``rows`` and ``features``: the request's item
evidence, the extra rows — the model's dense top items — included) and the
items' static evidence (``items x s``), and optionally a query ``rewrite`` (text -> text, e.g. spelling
correction) applied before both the encoder and the planner, and the evidence ``columns`` the model
reads (of the plan's, after the dense join; all when None), and ``behaviour_query`` (an empty
query of a user with a known history takes the user's behaviour vector as its query vector, so
the encoder is not run for it); implements ``types.Searcher``. For each request the plan
is pooled (max) to every trie node it touches; the beam then keeps, at every depth, the ``beam``
best children of the nodes it kept, and more when fewer than ``k`` items hang below them, so the
list can reach ``k`` items (``covering``; scored by the model from its state and the node's pooled
evidence; a node's score is not summed over depths, since each depth's score already estimates
its best item) and the last depth's items leave in score order — no stage after it. With
``exhaustive=True`` every item's leaf is scored instead (the reference the beam approximates);
by default (None) catalogs of at most ``EXHAUSTIVE_ITEMS`` items are, where one product over
every item costs less than the beam's depth-by-depth walk.
A caller that has the codes' trie (``tree``) or a trained dense scan of such vectors
(``dense_scan``, ``DenseTop.like``) hands them in instead of having them built again.
A list of at most ``PAGE`` items (a result page) is walked with ``page_beam`` when given (training
picks it on valid: the narrowest beam that keeps the page's quality), a longer one with ``beam``.
Every hit is a real item; at most ``max(beam, k)`` items come back from the beam. The dense top items
come from ``DenseTop`` (a cheap scan refined exactly); at depths whose node vectors are their
parent's plus a shared codeword (``SharedCodewords``) the beam reads parents' vectors and a
small table instead of every child's vector; the batched products after the query encoder run
under the shared batch-1 thread policy (``threads.for_batch``), and the walk on one thread: the
plans are made request by request, then the beam walks the whole batch at once (its candidates
scored together at each depth, each request keeping its own ``beam`` best), so a batch costs one
set of products per depth, not one per request.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import numpy as np
import torch

from onesearch.decoding.codewords import SharedCodewords
from onesearch.decoding.dense import DenseTop
from onesearch.decoding.tree import CodeTree, pool_sorted
from onesearch.evidence.history import recent_rows
from onesearch.evidence.ranks import log_ranks, reciprocal_ranks
from onesearch.model.anchored import AnchoredDecoder
from onesearch.threads import for_batch, one_thread
from onesearch.types import Hit, SearchRequest

__all__ = ["DENSE", "EXHAUSTIVE_ITEMS", "PAGE", "BatchEvidence", "DensePlan", "NodeEvidence", "PlanLike", "PlannedSearcher", "dense_plan", "segment_top", "selected", "stand_ins", "user_vectors"]

USER_WINDOW = 50
DENSE = ("dense_reciprocal_rank", "dense_log_rank", "fused_rank")  # evidence columns the dense plan appends
RRF_K = 60.0
EXHAUSTIVE_ITEMS = 8192  # catalogs up to this many items are scored exhaustively unless told otherwise
PAGE = 10  # lists of at most this many items (a result page) are walked with the page beam


class PlanLike(Protocol):
    """A request's evidence: item rows and one feature row each."""

    rows: np.ndarray
    features: np.ndarray


Planner = Callable[[SearchRequest, np.ndarray | None], PlanLike]  # (request, extra rows to plan too)
QueryVectors = Callable[[list[str]], np.ndarray]


class DensePlan:
    """A plan joined with the model's own dense top items: rows, then features with ``DENSE``
    columns appended (the reciprocal dense rank, and reciprocal-rank fusion of the dense rank with
    the lexical plan's ``lexical_rank`` column)."""

    def __init__(self, rows: np.ndarray, features: np.ndarray) -> None:
        self.rows = rows
        self.features = features


def dense_plan(plan: PlanLike, dense_rows: np.ndarray, lexical_rank: int) -> DensePlan:
    """``plan`` joined with ``dense_rows`` (best first); ``lexical_rank`` is the column of the
    plan's reciprocal lexical rank (0 where unranked)."""
    rows = np.union1d(plan.rows, dense_rows).astype(np.int64)
    features = np.zeros((len(rows), plan.features.shape[1] + len(DENSE)), dtype=np.float32)
    features[np.searchsorted(rows, plan.rows), : plan.features.shape[1]] = plan.features
    rank = np.zeros(len(rows), dtype=np.float32)
    rank[np.searchsorted(rows, dense_rows)] = np.arange(1, len(dense_rows) + 1)
    features[:, -3] = reciprocal_ranks(rank)
    features[:, -2] = log_ranks(rank, len(dense_rows))
    lexical = features[:, lexical_rank]
    fused = np.where(rank > 0, 1.0 / (RRF_K + rank), 0.0) + np.where(lexical > 0, 1.0 / (RRF_K + 1.0 / np.maximum(lexical, 1e-9)), 0.0)
    features[:, -1] = fused * RRF_K / 2.0
    return DensePlan(rows, features)


def selected(plan: PlanLike, columns: np.ndarray | None) -> PlanLike:
    """``plan`` with only its evidence ``columns`` (all of them when None)."""
    return plan if columns is None else DensePlan(plan.rows, plan.features[:, columns])


class NodeEvidence:
    """Evidence of any node for one request: the node's static max, then the plan's pooled max
    (pooled to a depth the first time that depth is asked for)."""

    def __init__(self, tree: CodeTree, static_nodes: list[np.ndarray], plan: PlanLike) -> None:
        self.tree = tree
        self.static_nodes = static_nodes
        self.plan = plan
        self.width = plan.features.shape[1]
        self._pooled: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def pooled(self, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted planned depth-``depth`` nodes, their pooled request evidence)."""
        if depth not in self._pooled:
            self._pooled[depth] = self.tree.pool_max(self.plan.rows, self.plan.features, depth)
        return self._pooled[depth]

    def at(self, depth: int, nodes: np.ndarray) -> np.ndarray:
        """``len(nodes) x (static + request)`` evidence of depth-``depth`` nodes (0 where unplanned)."""
        known, values = self.pooled(depth)
        request = np.zeros((len(nodes), self.width), dtype=np.float32)
        if len(known):
            index = np.minimum(np.searchsorted(known, nodes), len(known) - 1)
            hit = known[index] == nodes
            request[hit] = values[index[hit]]
        return np.concatenate([self.static_nodes[depth][nodes], request], axis=1)

    def sparse(self, depth: int, nodes: np.ndarray | None) -> tuple[np.ndarray, torch.Tensor]:
        """(positions in ``nodes`` of the planned ones, their request evidence): ``at`` without
        the static part or the zero rows (``nodes`` None: every node of the depth, by id)."""
        known, values = self.pooled(depth)
        if nodes is None or not len(known):  # every node by id, or none planned
            return known, torch.from_numpy(values)
        index = np.minimum(np.searchsorted(known, nodes), len(known) - 1)
        positions = np.flatnonzero(known[index] == nodes)
        return positions, torch.from_numpy(values[index[positions]])


class BatchEvidence:
    """Request evidence of a batch's plans for the beam, pooled (max) per (request, node): one
    pooling per depth for the whole batch instead of one per request. The planned rows are
    sorted once by (request, leaf); node ids follow prefix order, so the (request, node) keys of
    every depth are then sorted too and each depth pools without a sort."""

    def __init__(self, tree: CodeTree, plans: Sequence[PlanLike]) -> None:
        self.tree = tree
        rows = np.concatenate([np.asarray(plan.rows, dtype=np.int64) for plan in plans])
        request = np.repeat(np.arange(len(plans)), [len(plan.rows) for plan in plans])
        order = np.lexsort((tree.paths[rows, -1], request))
        self.request, self.paths = request[order], tree.paths[rows[order]]
        self.features = np.concatenate([np.asarray(plan.features, dtype=np.float32) for plan in plans])[order]

    def sparse(self, depth: int, nodes: np.ndarray, asked: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
        """(positions i in ``nodes`` that request ``asked[i]`` planned, that request's evidence of them)."""
        count = self.tree.counts[depth]
        known, values = pool_sorted(self.request * count + self.paths[:, depth], self.features)
        if not len(known):
            return known, torch.from_numpy(values)
        keys = asked * count + nodes
        index = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        positions = np.flatnonzero(known[index] == keys)
        return positions, torch.from_numpy(values[index[positions]])


def segment_top(scores: torch.Tensor, group: np.ndarray, groups: int, keep: int) -> np.ndarray:
    """Indices of the ``keep`` best ``scores`` of every group (``group``: sorted group ids in
    ``range(groups)``), group by group, each group's best first."""
    if groups == 1:
        return torch.topk(scores, min(keep, len(scores))).indices.numpy()
    sizes = np.bincount(group, minlength=groups)
    width = int(sizes.max(initial=0))
    if not width:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    padded = torch.full((groups, width), -math.inf)
    padded[torch.from_numpy(group), torch.from_numpy(np.arange(len(group)) - starts[group])] = scores
    kept = min(keep, width)
    top = torch.topk(padded, kept, dim=1).indices.numpy()
    return (starts[:, None] + top)[np.arange(kept) < np.minimum(sizes, keep)[:, None]]


def covering(top: np.ndarray, group: np.ndarray, sizes: np.ndarray, beam: int, k: int) -> np.ndarray:
    """Of each group's best-first candidates ``top`` (indices into ``group`` and ``sizes``, group
    by group), the first ``beam`` and after them as many as it takes for the kept ones to hold
    ``k`` items (``sizes``: the items under each candidate): a beam narrower than the list asked
    for still reaches ``k`` items at the last depth."""
    owner, held = group[top], sizes[top]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(top)]))
    before = np.cumsum(held) - held
    return top[(np.arange(len(top)) - first < beam) | (before - before[first] < k)]


def stand_ins(texts: Sequence[str], user: torch.Tensor | None) -> list[int]:
    """Indices of the empty query texts whose user has a behaviour vector (``user``, a zero row
    where none): a request without words asks for what the user's behaviour points to, so the
    behaviour vector stands in for the query vector (training and search alike)."""
    if user is None:
        return []
    return [i for i, text in enumerate(texts) if not text.strip() and bool(user[i].any())]


def user_vectors(histories: Sequence[Sequence[int]], item_vectors: torch.Tensor, decay: float) -> torch.Tensor | None:
    """Recency-weighted mean item vector of each history (indices into ``item_vectors``, oldest
    first; an item ``k`` steps before the last weighs ``decay**k``), unit length; None when no
    history has an item."""
    if not any(histories):
        return None
    vectors = item_vectors.detach().numpy()
    out = np.zeros((len(histories), vectors.shape[1]), dtype=np.float32)
    for i, rows in enumerate(histories):
        rows = list(rows)[-USER_WINDOW:]
        if rows:  # an elementwise sum, not a BLAS product (numpy's BLAS threads would fight torch's)
            weights = decay ** np.arange(len(rows) - 1, -1, -1, dtype=np.float32)
            mean = (weights[:, None] * np.take(vectors, rows, axis=0)).sum(axis=0)
            out[i] = mean / max(float(np.sqrt(np.square(mean).sum())), 1e-6)
    return torch.from_numpy(out)


class PlannedSearcher:
    """The one-model searcher over anchored codes with a look-ahead plan."""

    name = "generative"

    def __init__(
        self,
        model: AnchoredDecoder,
        item_ids: Sequence[str],
        full_codes: np.ndarray,
        query_vectors: QueryVectors,
        planner: Planner,
        static: np.ndarray,
        beam: int = 400,
        exhaustive: bool | None = None,
        dense_depth: int = 0,
        lexical_rank: int = 0,
        rewrite: Callable[[str], str] | None = None,
        columns: np.ndarray | None = None,
        behaviour_query: bool = False,
        tree: CodeTree | None = None,
        dense_scan: DenseTop | None = None,
        page_beam: int | None = None,
    ) -> None:
        self.model = model.eval()
        self.item_ids = list(item_ids)
        self.row_of = {item: row for row, item in enumerate(self.item_ids)}
        self._ids = np.array(self.item_ids, dtype=object)
        self.code_of = {item: tuple(code) for item, code in zip(self.item_ids, np.asarray(full_codes).tolist())}
        self.tree = tree if tree is not None else CodeTree(full_codes)  # ``tree``: the codes' trie, when the caller has it
        self.query_vectors = query_vectors
        self.planner = planner
        self.static_nodes = [self.tree.pool_all(np.asarray(static, dtype=np.float32), d) for d in range(self.tree.depth)]
        self.beam = beam
        self.page_beam = page_beam
        self.exhaustive = len(self.item_ids) <= EXHAUSTIVE_ITEMS if exhaustive is None else exhaustive
        self.dense_depth = dense_depth
        self.lexical_rank = lexical_rank
        self.rewrite = rewrite
        self.columns = columns
        self.behaviour_query = behaviour_query
        self.allowed: list[np.ndarray] | None = None
        vectors = model.item_vectors().numpy()  # the base vectors training never changes; ``dense_scan``: a trained scan of such vectors to reuse
        self._dense = (dense_scan.like(vectors) if dense_scan is not None else DenseTop(vectors)) if dense_depth else None
        self.codewords = [None, *(_shared_codewords(model, self.tree, np.asarray(full_codes), d) for d in range(1, self.tree.depth))]
        self.sync()

    def sync(self) -> None:
        """Re-read the model's trained weights into the search-time tables (the stacked state
        maps, each depth's scorer with its static evidence products). Call it after changing the
        weights, as training does before each validation; the base vectors the other tables hold
        never change."""
        with torch.no_grad():
            maps = self.model.state_maps()
            dim = self.model.item_vectors().shape[1]  # exhaustive scoring reads the last depth's state only
            self._maps = tuple(None if m is None else m[-dim:] for m in maps) if self.exhaustive else maps
            self._scorers = [self.model.depth_scorer(d, torch.from_numpy(static)) for d, static in enumerate(self.static_nodes)]

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        if self.rewrite is not None:
            requests = [replace(r, query=self.rewrite(r.query)) for r in requests]
        with torch.no_grad():
            user = self.users(requests)
            query = self.queries([r.query for r in requests], user)
            with for_batch(len(requests)):
                states = self.model.states(query, user if self.model.config.user else None, self._maps)
                dense = self.dense_top(query)
            with one_thread():  # the walk is per request: its products are batch-1 sized whatever the batch
                return self._generate(requests, states, dense, k)

    def _generate(self, requests: Sequence[SearchRequest], states: torch.Tensor, dense: np.ndarray | None, k: int) -> list[list[Hit]]:
        """Hits of the requests from their model states and dense top rows: each request's plan,
        then one beam walk for the whole batch (or each request's exhaustive scoring)."""
        plans = []
        for i, request in enumerate(requests):
            plan = self.planner(request, None if dense is None else dense[i])
            plans.append(selected(plan if dense is None else dense_plan(plan, dense[i], self.lexical_rank), self.columns))
        if self.exhaustive:
            found = [self._exhaustive(states[i], NodeEvidence(self.tree, self.static_nodes, plan), k) for i, plan in enumerate(plans)]
        else:
            found = self._beams(states, BatchEvidence(self.tree, plans), k)
        return [list(map(Hit, self._ids[rows].tolist(), scores.tolist())) for rows, scores in found]

    def users(self, requests: Sequence[SearchRequest]) -> torch.Tensor | None:
        """Behaviour vectors ``B x dim`` of the requests' users (None when the model reads none and
        no empty query stands in for one, or no request has a known history item)."""
        if not (self.model.config.user or self.behaviour_query):
            return None
        return user_vectors([self.tree.paths[recent_rows(r.user.history, self.row_of, USER_WINDOW), -1].tolist() for r in requests], self.model.item_vectors(),
                            self.model.config.recency)

    def queries(self, texts: Sequence[str], user: torch.Tensor | None) -> torch.Tensor:
        """Query vectors ``B x dim``: the encoder's, except (with ``behaviour_query``) the user's
        behaviour vector for an empty text (``stand_ins``): the encoder is not run for those."""
        stand = stand_ins(texts, user) if self.behaviour_query else []
        encoded = sorted(set(range(len(texts))) - set(stand))
        out = torch.zeros(len(texts), self.model.item_vectors().shape[1])
        if encoded:
            out[encoded] = torch.from_numpy(np.asarray(self.query_vectors([texts[i] for i in encoded]), dtype=np.float32))
        if stand:
            out[stand] = user[stand]
        return out


    def dense_top(self, query: torch.Tensor) -> np.ndarray | None:
        """Catalog rows of the ``dense_depth`` best items by the query's inner product with the
        items' anchored vectors (None when the plan has no dense part)."""
        if self._dense is None:
            return None
        return self.tree.item_of_leaf[self._dense.top(query.numpy(), self.dense_depth)]

    def restricted(self, item_ids: Collection[str]) -> PlannedSearcher:
        """This searcher generating only ``item_ids`` (a filter); needs one known item."""
        allowed = np.zeros(len(self.item_ids), dtype=np.float32)
        allowed[[self.row_of[i] for i in item_ids if i in self.row_of]] = 1.0
        if not allowed.any():
            raise ValueError("no item of the restriction is in this model's codebook")
        clone = copy.copy(self)
        clone.allowed = [self.tree.pool_all(allowed[:, None], d)[:, 0] > 0 for d in range(self.tree.depth)]
        return clone

    def beam_for(self, k: int) -> int:
        """The beam a list of ``k`` items is walked with: ``page_beam`` for a page, else ``beam``."""
        return self.page_beam if self.page_beam and k <= PAGE else self.beam

    def _beams(self, states: torch.Tensor, evidence: BatchEvidence, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every request's (item rows, scores), best first, from one beam walk over the batch: at
        each depth the candidates of all requests are scored together (one product per table for
        the batch), and each request keeps its ``beam`` best."""
        count, beam = len(states), self.beam_for(k)
        nodes, request = np.zeros(count, dtype=np.int64), np.arange(count)
        scores = torch.zeros(0)
        for depth in range(self.tree.depth):
            owners, children = self.tree.children(nodes, depth)
            if self.allowed is not None:
                kept = self.allowed[depth][children]
                owners, children = owners[kept], children[kept]
            asked, shared, level = request[owners], self.codewords[depth], states[:, depth]
            dense = self.model.node_dense(level, depth, children, asked) if shared is None else shared.dense(level, nodes, owners, children, request)
            scores = self._scorers[depth].scores(dense, children, *evidence.sparse(depth, children, asked))
            top = segment_top(scores, asked, count, max(beam, k))
            if depth < self.tree.depth - 1 and beam < k:
                top = covering(top, asked, self.tree.sizes[depth][children], beam, k)
            nodes, request, scores = children[top], asked[top], scores[top]
        bounds = np.searchsorted(request, np.arange(count + 1)).tolist()
        items, values = self.tree.item_of_leaf[nodes], scores.numpy()
        return [(items[start:end][:k], values[start:end][:k]) for start, end in zip(bounds[:-1], bounds[1:])]

    def _exhaustive(self, state: torch.Tensor, evidence: NodeEvidence, k: int) -> tuple[np.ndarray, np.ndarray]:
        depth = self.tree.depth - 1
        subset = None if self.allowed is None else np.flatnonzero(self.allowed[depth])  # None: every item
        nodes = np.arange(self.tree.counts[depth]) if subset is None else subset
        scores = self._scorers[depth].scores(self.model.node_dense(state[-1], depth, nodes), subset, *evidence.sparse(depth, subset))
        top = torch.topk(scores, min(k, len(nodes)))
        return self.tree.item_of_leaf[nodes[top.indices.numpy()]], top.values.numpy()


def _shared_codewords(model: AnchoredDecoder, tree: CodeTree, codes: np.ndarray, depth: int) -> SharedCodewords | None:
    """Depth ``depth``'s node vectors factorized over their parents' (None where the model learns
    corrections of them, or they do not factorize)."""
    if len(model.delta[depth]):
        return None
    vectors, parents = getattr(model, f"base{depth}").numpy(), getattr(model, f"base{depth - 1}").numpy()
    code = np.zeros(tree.counts[depth], dtype=np.int64)
    code[tree.paths[:, depth]] = codes[:, depth]
    return SharedCodewords.find(vectors, parents, tree.parent_of[depth], code)
