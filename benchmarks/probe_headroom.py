"""How much ranking headroom the searchers' own signals leave: their lists fused, and a query-log prior.

Reads one ``onesearch eval`` run (its ``run.trec``) and the task's examples of that split. Prints,
for each searcher of the run, NDCG@10, HR@10 and Recall@350; then the reciprocal-rank fusion (RRF,
k = 60) of every pair of searchers, e.g. the cascade with the generative searcher, or two seeds of
one recipe; then a **query-neighbour prior**: each train query's judged items, weighted by the
cosine (to the power ``--power``) between the evaluated query and that train query under the
task's static query encoder, summed over the ``--neighbours`` nearest train queries (what a
query-log channel would add: items judged for similar queries). The prior is scored alone and
added to the ``--base`` searcher's scores as ``score + w log(1 + prior)``. Last, a second text
model's judgement: each ``--encoders`` model's cosine between the query and the item title (zero
shot: ``e5``, ``minilm``) added to the base searcher's scores of its top ``--head`` items as
``score + w cos``. If no fusion gains, the
searchers' signals agree and a lift needs a signal neither has. Not a timing: a diagnosis.
Usage:

    .venv/bin/python benchmarks/probe_headroom.py --task homedepot --run runs/eval/hd-valid-headroom/run.trec --base generative
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np

from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cascade.build import cascade_directory
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_static_encoder
from onesearch.embedding.encoder import load_encoder, normalize
from onesearch.evaluation.metrics import score_ranking
from onesearch.types import Example

SHOWN = ("ndcg@10", "hr@10", "recall@350")
WEIGHTS = (0.1, 0.3, 1.0)
ENCODER_WEIGHTS = (0.5, 2.0, 8.0)


def read_run(path: Path) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """searcher -> example id -> [(item id, score)], best first, from a TREC run file."""
    runs: dict[str, dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for line in path.read_text().splitlines():
        example, _, item, _, score, name = line.split()
        runs[name][example].append((item, float(score)))
    return runs


def scores(lists: dict[str, list[str]], examples: list[Example]) -> str:
    """Mean NDCG@10 / HR@10 / Recall@350 of ranked lists over the scorable examples."""
    scored = [m for m in (score_ranking(lists.get(e.example_id, []), e.targets) for e in examples) if m]
    return " | ".join(f"{np.mean([m[name] for m in scored]):.4f}" for name in SHOWN)


def rrf(*lists: list[str], k: int = 60) -> list[str]:
    """Reciprocal-rank fusion of ranked lists."""
    fused: dict[str, float] = defaultdict(float)
    for ranked in lists:
        for rank, item in enumerate(ranked):
            fused[item] += 1.0 / (k + rank + 1)
    return sorted(fused, key=lambda item: -fused[item])


def neighbour_priors(examples: list[Example], train: list[Example], encoder, neighbours: int, power: float) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Per evaluated example: item id -> the summed, cosine-weighted gains of its nearest train queries' judged items."""
    near = normalize(encoder.encode([e.query for e in examples], "query")) @ normalize(encoder.encode([e.query for e in train], "query")).T
    priors = {}
    for row, example in enumerate(examples):
        prior: dict[str, float] = defaultdict(float)
        for j in np.argsort(-near[row])[:neighbours]:
            for target in train[j].targets:
                prior[target.item_id] += max(float(near[row, j]), 0.0) ** power * target.gain
        priors[example.example_id] = prior
    return priors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--run", type=Path, required=True, help="run.trec of one onesearch eval run")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--neighbours", type=int, default=30)
    parser.add_argument("--power", type=float, default=4.0)
    parser.add_argument("--base", default=None, help="the searcher the prior and the encoders are added to (default: the run's first)")
    parser.add_argument("--encoders", nargs="*", default=["e5", "minilm"])
    parser.add_argument("--head", type=int, default=30)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    everything = list(examples_of(dataset.examples))
    examples, train = [e for e in everything if e.split == args.split], [e for e in everything if e.split == "train"]
    runs = read_run(args.run)
    ranked = {name: {example: [item for item, _ in hits] for example, hits in run.items()} for name, run in runs.items()}
    print(f"{args.task} {args.split}, {args.run}\n\n| lists | NDCG@10 | HR@10 | Recall@350 |\n|---|---|---|---|")
    for name, lists in ranked.items():
        print(f"| {name} | {scores(lists, examples)} |")
    for a, b in itertools.combinations(ranked, 2):
        fused = {e.example_id: rrf(ranked[a].get(e.example_id, []), ranked[b].get(e.example_id, [])) for e in examples}
        print(f"| RRF of {a} and {b} | {scores(fused, examples)} |")
    directory = cascade_directory(args.cache, args.task, dataset.training_fingerprint())
    encoder = load_encoder(str(ensure_static_encoder(dataset, directory)))
    priors = neighbour_priors(examples, train, encoder, args.neighbours, args.power)
    alone = {e: sorted(prior, key=lambda item: -prior[item])[:350] for e, prior in priors.items()}
    print(f"| query-neighbour prior alone ({args.neighbours} train queries, cosine^{args.power:g}) | {scores(alone, examples)} |")
    base = args.base or next(iter(runs))
    for weight in WEIGHTS:
        added = {e: [item for item, _ in sorted(hits, key=lambda h: -(h[1] + weight * np.log1p(priors.get(e, {}).get(h[0], 0.0))))] for e, hits in runs[base].items()}
        print(f"| {base} + {weight:g} log(1 + prior) | {scores(added, examples)} |")
    titles = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["title"].to_pylist()))
    for spec in args.encoders:
        cosines = head_cosines(load_encoder(spec), examples, runs[base], titles, args.head)
        for weight in ENCODER_WEIGHTS:
            moved = {e.example_id: reranked(runs[base].get(e.example_id, []), cosines.get(e.example_id, {}), weight, args.head) for e in examples}
            print(f"| {base} + {weight:g} cos ({spec}, top {args.head}) | {scores(moved, examples)} |")


def head_cosines(encoder, examples: list[Example], run: dict[str, list[tuple[str, float]]], titles: dict[str, str], head: int) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Per example: item id -> the encoder's query-title cosine, for the run's top ``head`` items."""
    needed = sorted({item for e in examples for item, _ in run.get(e.example_id, [])[:head]})
    items = dict(zip(needed, normalize(encoder.encode([titles[item] for item in needed], "item"))))
    queries = normalize(encoder.encode([e.query for e in examples], "query"))
    return {e.example_id: {item: float(items[item] @ queries[row]) for item, _ in run.get(e.example_id, [])[:head]} for row, e in enumerate(examples)}


def reranked(hits: list[tuple[str, float]], cosines: dict[str, float], weight: float, head: int) -> list[str]:
    """The top ``head`` hits re-ordered by score + weight x cosine; the rest as they were."""
    moved = sorted(hits[:head], key=lambda hit: -(hit[1] + weight * cosines.get(hit[0], 0.0)))
    return [item for item, _ in moved + hits[head:]]


if __name__ == "__main__":
    main()
