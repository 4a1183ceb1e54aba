"""``onesearch fuse``: weight the RRF fusion of two recorded searchers on one split, score it on another.

Reads the ``run.trec`` of two ``onesearch eval`` reports — one on the tuning split (valid), one on
the split to score (test) — each holding lists ``A`` and ``B``. Every weight of the grid fuses
``w·A + 1·B`` by reciprocal rank on the tuning split; the weight with the best NDCG@10 there is
the only one applied to the scored split, where A, B and the fusion are scored side by side
(with paired comparisons). No searcher runs again, so latencies in this report are zero.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from onesearch.artifacts import atomic_directory
from onesearch.cascade.fusion import reciprocal_rank_fusion
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.errors import DataError
from onesearch.evaluation.harness import SearcherRun, evaluate
from onesearch.evaluation.metrics import score_ranking
from onesearch.evaluation.report import Lists, markdown_table, read_trec, write_report
from onesearch.evaluation.slices import Slicer
from onesearch.types import Example, Hit

__all__ = ["fuse_command"]

console = Console(stderr=True)
GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)


def fuse_command(
    task: Annotated[str, typer.Option("--task", help="Data set of both reports.")],
    tune: Annotated[Path, typer.Option("--tune", help="Report folder of `onesearch eval` on the tuning split (valid).")],
    apply: Annotated[Path, typer.Option("--apply", help="Report folder of `onesearch eval` on the split to score (test).")],
    weighted: Annotated[str, typer.Option("--weighted", help="Searcher A, whose RRF weight is tuned (e.g. generative).")],
    base: Annotated[str, typer.Option("--base", help="Searcher B, RRF weight 1 (e.g. cascade or bm25).")],
    out: Annotated[Path, typer.Option("--out", help="Report folder for the scored split (replaced atomically).")],
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Tune the RRF weight of WEIGHTED against BASE on TUNE's split; score A, B and the fusion on APPLY's split."""
    dataset = registry.load(task, data_root(data), source=source)
    examples = {e.example_id: e for e in examples_of(dataset.examples)}
    tuning, scoring = read_trec(tune / "run.trec"), read_trec(apply / "run.trec")
    tune_ids, ids = _example_ids(tune, examples), _example_ids(apply, examples)
    for lists, path in ((tuning, tune), (scoring, apply)):
        missing = sorted({weighted, base} - set(lists))
        if missing:
            raise DataError(f"no {missing[0]!r} lists in this report (has: {', '.join(sorted(lists))})", path=path / "run.trec")
    curve = {w: _mean_ndcg10(_fused(tuning, weighted, base, w), [examples[i] for i in tune_ids]) for w in GRID}
    best = max(GRID, key=lambda w: (round(curve[w], 6), -abs(w - 1.0)))
    console.print("NDCG@10 on the tuning split by weight: " + ", ".join(f"{w:g}: {v:.4f}" for w, v in curve.items()) + f"; chosen {best:g}")
    fused = _fused(scoring, weighted, base, best)
    runs = [_run(base, scoring[base], ids), _run(weighted, scoring[weighted], ids), _run(f"{weighted}+{base}@{best:g}", fused, ids)]
    chosen = [examples[i] for i in ids]
    result = evaluate(runs, chosen, Slicer(e for e in examples.values() if e.split == "train"), dataset.items.num_rows)
    result["fusion"] = {"weighted": weighted, "base": base, "grid": {str(w): v for w, v in curve.items()}, "chosen": best, "tuned_on": str(tune), "scored": str(apply)}
    with atomic_directory(out) as tmp:
        write_report(tmp, result, runs, ids)
    typer.echo(markdown_table(result))


def _example_ids(report: Path, examples: dict[str, Example]) -> list[str]:
    """The examples a report scored, in order: its split, cut at its limit (from metrics.json)."""
    try:
        run = json.loads((report / "metrics.json").read_text())["run"]
        split, limit = run["split"], run.get("limit")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"not an `onesearch eval` report ({type(error).__name__}: {error})", path=report / "metrics.json") from None
    return [i for i, e in examples.items() if e.split == split][:limit]


def _fused(lists: Lists, weighted: str, base: str, weight: float) -> dict[str, list[str]]:
    """RRF of ``weight·weighted + 1·base`` for every example either answered."""
    out = {}
    for example_id in set(lists[base]) | set(lists[weighted]):
        a, base_items = lists[weighted].get(example_id, []), lists[base].get(example_id, [])
        ids = list(dict.fromkeys([*a, *base_items]))
        row = {item: i for i, item in enumerate(ids)}
        rows, _ = reciprocal_rank_fusion([[row[i] for i in a], [row[i] for i in base_items]], weights=[weight, 1.0])
        out[example_id] = [ids[r] for r in rows]
    return out


def _mean_ndcg10(lists: dict[str, list[str]], examples: list[Example]) -> float:
    """Mean NDCG@10 over the examples with a relevant target (no list: 0)."""
    scores = [score_ranking(lists.get(e.example_id, []), e.targets) for e in examples]
    values = [s["ndcg@10"] for s in scores if s is not None]
    return float(np.mean(values)) if values else 0.0


def _run(name: str, lists: dict[str, list[str]], ids: list[str]) -> SearcherRun:
    """A recorded searcher as a run (scores: reciprocal ranks; no timings)."""
    hits = [[Hit(item, 1.0 / rank) for rank, item in enumerate(lists.get(i, []), start=1)] for i in ids]
    return SearcherRun(name, hits, np.zeros(len(ids)), np.zeros(len(ids)), 1)
