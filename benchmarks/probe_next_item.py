"""Where a next-item model's NDCG@10 comes from: its valid ranking split by what the train counts knew.

Scores every valid example of a task with a generative model folder (every item ranked), and
splits the examples by whether the target followed one of the user's last 3 history items in
the model's train counts (``fwd``), came before one of them only (``bwd``), or neither
(``none``): per slice, the count, HR@10, NDCG@10, its share of the total NDCG@10 and the
median rank. Then adds each of a few request-level scores a model could read to the model's own
scores at a few weights (the probes ``docs/results.md`` reports): the cosine of an item with the
centroid of the items that followed the user's last items, the share of the user's history of
the item's brand, and the cosine of collaborative item vectors (an SVD of the train
co-occurrence counts) with the user's recency-weighted mean of them, and the followers of the
last items' nearest neighbours by the model's item vectors (``neighbour followers``: what
followed items *like* the user's last ones, which reaches users whose last items no train user
went on from; the neighbours' counts weighted by their cosine, log-scaled). ``--ensemble`` adds more
models (other seeds of the same recipe) and the figures of the mean of all their scores. Not a timing: a diagnosis, so a next idea starts from where the hits are. Usage:

    .venv/bin/python benchmarks/probe_next_item.py --task amazon-industrial --model runs/models/ai-prec [--ensemble runs/models/ai-seed1 ...]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.decoding.planned import USER_WINDOW
from onesearch.evidence.history import recent_rows
from onesearch.evidence.transitions import WINDOW, Transitions
from onesearch.generative.folder import load_planned

WEIGHTS = (0.5, 1.0, 2.0, 4.0)


def _metrics(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per example: the 0-based rank of its target (ties counted against it) and its NDCG@10."""
    ranks = (scores > scores[np.arange(len(scores)), targets][:, None]).sum(1)
    return ranks, np.where(ranks < 10, 1.0 / np.log2(ranks + 2.0), 0.0)


def _summary(ranks: np.ndarray, ndcg: np.ndarray) -> str:
    return f"HR@10 {np.mean(ranks < 10):.4f}  NDCG@10 {ndcg.mean():.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="amazon-industrial")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--ensemble", type=Path, nargs="*", default=[], help="more models (other seeds): each scored, then the mean of all scores")
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    searcher = load_planned(args.model, dataset.items)
    resolver = ContextResolver(dataset)
    examples = [e for e in examples_of(dataset.examples) if e.split == "valid" and any(t.relevant for t in e.targets)]
    requests = [resolver.request(e) for e in examples]
    row_of, count = searcher.row_of, len(searcher.item_ids)
    scores = _all_scores(searcher, requests)
    targets = np.array([row_of[next(t.item_id for t in e.targets if t.relevant)] for e in examples])
    ranks, ndcg = _metrics(scores, targets)
    print(f"{args.task} valid, {len(examples):,} examples, {args.model}: {_summary(ranks, ndcg)}")
    if args.ensemble:
        _ensemble(scores, [_all_scores(load_planned(m, dataset.items), requests, row_of) for m in args.ensemble], targets)
    transitions = Transitions.from_array(np.load(args.model / "transitions.npy"))
    histories = [recent_rows(r.user.history, row_of, USER_WINDOW) for r in requests]
    after = np.array([t in set(transitions.followers(h[-WINDOW:])[0].tolist()) for t, h in zip(targets, histories)])
    before = np.array([t in set(transitions.preceders(h[-WINDOW:])[0].tolist()) for t, h in zip(targets, histories)]) & ~after
    for name, mask in (("fwd", after), ("bwd", before), ("none", ~after & ~before)):
        print(f"  {name:5} {mask.sum():6,}  {_summary(ranks[mask], ndcg[mask])}  share {ndcg[mask].sum() / max(ndcg.sum(), 1e-9):.3f}  median rank {np.median(ranks[mask]):.0f}")
    vectors = searcher.model.item_vectors().numpy()[searcher.tree.paths[:, -1]]
    probes = (("follower centroid", _follower_centroid(transitions, histories, vectors) @ vectors.T), ("brand share", _brand_share(dataset, searcher.item_ids, histories)),
              ("co-occurrence SVD", _collaborative(transitions, histories, count)), ("neighbour followers", _neighbour_followers(transitions, histories, vectors)))
    for name, extra in probes:
        print(f"  + {name}: " + "  ".join(f"{w}: {_summary(*_metrics(scores + w * extra, targets))}" for w in WEIGHTS))
    alone = _metrics(probes[-1][1] + 1e-6 * scores, targets)
    print("  neighbour followers alone (the model's scores break ties): " + "  ".join(f"{name} {_summary(alone[0][mask], alone[1][mask])}" for name, mask in (("fwd", after), ("bwd", before), ("none", ~after & ~before))))


def _all_scores(searcher, requests: list, row_of: dict[str, int] | None = None) -> np.ndarray:
    """Every item's score per request (rows: ``row_of``, the searcher's own by default), -inf where none."""
    row_of = searcher.row_of if row_of is None else row_of
    scores = np.full((len(requests), len(row_of)), -np.inf)
    for i, hits in enumerate(searcher.search(requests, len(row_of))):
        scores[i, [row_of[h.item_id] for h in hits]] = [h.score for h in hits]
    return scores


def _ensemble(first: np.ndarray, others: list[np.ndarray], targets: np.ndarray) -> None:
    """Print each further model's figures and those of the mean score of all (a seed ensemble)."""
    for n, scores in enumerate(others, 1):
        print(f"  model {n + 1}: {_summary(*_metrics(scores, targets))}")
    print(f"  mean of the {len(others) + 1} models' scores: {_summary(*_metrics(np.mean([first, *others], axis=0), targets))}")


def _follower_centroid(transitions: Transitions, histories: list[list[int]], vectors: np.ndarray) -> np.ndarray:
    """Per request: the unit mean vector of the items that followed its last items (log-count weighted)."""
    out = np.zeros((len(histories), vectors.shape[1]))
    for i, history in enumerate(histories):
        rows, weights = transitions.followers(history[-WINDOW:])
        if len(rows):
            out[i] = weights @ vectors[rows]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _neighbour_followers(transitions: Transitions, histories: list[list[int]], vectors: np.ndarray, neighbours: int = 20) -> np.ndarray:
    """Per request and item: log(1 + the followers' weights of the ``neighbours`` items nearest
    (cosine of ``vectors``) to each of the last history items, each weighted by its cosine)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    out = np.zeros((len(histories), len(vectors)))
    for i, history in enumerate(histories):
        for age, item in enumerate(reversed(history[-WINDOW:])):
            cosines = unit @ unit[item]
            cosines[item] = -np.inf
            for near in np.argsort(-cosines)[:neighbours]:
                rows, weights = transitions.followers([near])
                out[i, rows] += 0.5**age * max(cosines[near], 0.0) * weights
    return np.log1p(out)


def _collaborative(transitions: Transitions, histories: list[list[int]], count: int, dim: int = 64) -> np.ndarray:
    """Per request and item: the cosine of the item's collaborative vector (the top ``dim``
    singular directions of the symmetric, degree-normalised log co-occurrence counts) with the
    user's (its history's, the last item weighing 1 and each earlier one half the next)."""
    pairs = transitions.to_array()
    rows, cols = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    counts = sparse.coo_matrix((np.log1p(np.concatenate([pairs[:, 2], pairs[:, 2]]).astype(float)), (rows, cols)), shape=(count, count)).tocsr()
    scale = sparse.diags(1.0 / np.sqrt(np.asarray(counts.sum(1)).ravel() + 1.0))
    left, values, _ = svds(scale @ counts @ scale, k=dim)
    items = left * np.sqrt(values)
    items /= np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-9)
    users = np.stack([0.5 ** np.arange(len(h) - 1, -1, -1) @ items[h] if h else np.zeros(dim) for h in histories])
    return users / np.maximum(np.linalg.norm(users, axis=1, keepdims=True), 1e-9) @ items.T


def _brand_share(dataset, item_ids: list[str], histories: list[list[int]]) -> np.ndarray:
    """Per request and item: the share of the user's history whose brand is the item's."""
    brand_of = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["brand"].to_pylist()))
    brands = np.array([brand_of.get(item) or "" for item in item_ids], dtype=object)
    out = np.zeros((len(histories), len(item_ids)))
    for i, history in enumerate(histories):
        for brand, seen in Counter(brands[r] for r in history if brands[r]).items():
            out[i, brands == brand] = seen / len(history)
    return out


if __name__ == "__main__":
    main()
