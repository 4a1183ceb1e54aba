"""Would a less redundant first page hit more often? Maximal-marginal-relevance re-ordering of one searcher's lists.

Reads one ``onesearch eval`` run (its ``run.trec``) and the task's examples of that split. For the
``--base`` searcher, the top ``--head`` hits of every list are re-ordered greedily: each next item
maximises ``z(score) - λ · max similarity to the items already placed`` (scores z-normalised per
list, so λ is in units of the list's score spread); the rest of the list stays as it was. The
similarity is the Jaccard overlap of the lower-cased title words (``jaccard``) or the cosine of the
task's static query encoder's title vectors (``cosine``). HR@10 counts a query once whatever else
its first page holds, so when a searcher's top 10 repeats one kind of item, spreading the page over
kinds can hit more queries, at some NDCG cost. Prints NDCG@10, HR@10 and Recall@350 for every λ
in ``--lambdas``; λ = 0 is the base itself. Not a timing: a diagnosis. Usage:

    .venv/bin/python benchmarks/probe_diversity.py --task homedepot --run runs/eval/hd-valid-base/run.trec --base generative
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from probe_headroom import read_run, scores

from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cascade.build import cascade_directory
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_static_encoder
from onesearch.embedding.encoder import load_encoder, normalize

WORD = re.compile(r"[a-z0-9]+")


def jaccard_matrix(titles: list[str]) -> np.ndarray:
    """Pairwise Jaccard overlap of the titles' lower-cased word sets."""
    words = [set(WORD.findall(title.lower())) for title in titles]
    return np.array([[len(a & b) / max(len(a | b), 1) for b in words] for a in words])


def mmr(hits: list[tuple[str, float]], similarity: np.ndarray, weight: float, head: int) -> list[str]:
    """The top ``head`` hits in greedy MMR order (z-scored relevance minus ``weight`` × max similarity); the rest unchanged."""
    top = hits[:head]
    relevance = np.array([score for _, score in top])
    relevance = (relevance - relevance.mean()) / (relevance.std() + 1e-9)
    placed: list[int] = []
    left = list(range(len(top)))
    while left:
        penalty = similarity[np.ix_(left, placed)].max(axis=1) if placed else np.zeros(len(left))
        best = left[int(np.argmax(relevance[left] - weight * penalty))]
        placed.append(best)
        left.remove(best)
    return [top[i][0] for i in placed] + [item for item, _ in hits[head:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--run", type=Path, required=True, help="run.trec of one onesearch eval run")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--base", default="generative")
    parser.add_argument("--head", type=int, default=20)
    parser.add_argument("--lambdas", type=float, nargs="*", default=[0.0, 0.1, 0.2, 0.4, 0.8])
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    examples = [e for e in examples_of(dataset.examples) if e.split == args.split]
    run = read_run(args.run)[args.base]
    titles = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["title"].to_pylist()))
    directory = cascade_directory(args.cache, args.task, dataset.training_fingerprint())
    encoder = load_encoder(str(ensure_static_encoder(dataset, directory)))
    similarities = {"jaccard": {}, "cosine": {}}
    for example_id, hits in run.items():
        head_titles = [titles[item] for item, _ in hits[: args.head]]
        similarities["jaccard"][example_id] = jaccard_matrix(head_titles)
        vectors = normalize(encoder.encode(head_titles, "query"))
        similarities["cosine"][example_id] = vectors @ vectors.T
    print(f"{args.task} {args.split}, {args.run}, {args.base}, top {args.head} re-ordered\n")
    print("| similarity | λ | NDCG@10 | HR@10 | Recall@350 |\n|---|---|---|---|---|")
    for kind, matrices in similarities.items():
        for weight in args.lambdas:
            lists = {e: mmr(hits, matrices[e], weight, args.head) for e, hits in run.items()}
            print(f"| {kind} | {weight:g} | {scores(lists, examples)} |")


if __name__ == "__main__":
    main()
