"""``onesearch eval``: score searchers side by side on a task split and write the report."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from onesearch.artifacts import atomic_directory
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.engine import Cascade
from onesearch.cascade.fusion import FusedSearcher
from onesearch.cascade.searchers import SEARCHERS, make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import SPLITS, Dataset, examples_of
from onesearch.catalog.typos import misspell
from onesearch.cli.data import DataOption, SourceOption, TestFileOption, data_root
from onesearch.decoding.planned import PlannedSearcher
from onesearch.embedding.encoder import SHIPPED
from onesearch.errors import DataError
from onesearch.evaluation.baselines import RandomSearcher
from onesearch.evaluation.harness import evaluate, run_searcher
from onesearch.evaluation.leakage import LeakAudit, audit
from onesearch.evidence.understanding import QueryUnderstanding, Understood
from onesearch.evaluation.metrics import CUTOFFS
from onesearch.evaluation.report import markdown_table, write_report
from onesearch.evaluation.slices import Slicer
from onesearch.cli.train import ensure_model, shipped_encoder
from onesearch.recommenders.build import RECOMMENDERS, Recommenders
from onesearch.generative.folder import Loader
from onesearch.memory import WARM_UP, settle_heap
from onesearch.reward.build import build_reward
from onesearch.reward.searcher import RewardSearcher
from onesearch.types import Example, Searcher

__all__ = ["evaluate_command"]

console = Console(stderr=True)
HYBRID = "hybrid"
NO_CASCADE = {PlannedSearcher.name, RandomSearcher.name, *RECOMMENDERS}


def evaluate_command(
    task: Annotated[str, typer.Option("--task", help="Data set whose task to evaluate (see `onesearch data list`).")],
    out: Annotated[Path, typer.Option("--out", help="Report directory (replaced atomically).")],
    searcher: Annotated[list[str], typer.Option("--searcher", help=f"Searcher to run, repeatable; first is the baseline: {', '.join(SEARCHERS)}, cascade+reward (the cascade re-ranked by the reward model), generative, hybrid, {', '.join(RECOMMENDERS)} (sequential recommenders), random, or NAME=MODEL_DIR (a generative model under its own name).")],
    split: Annotated[str, typer.Option("--split", help="Split to score.")] = "test",
    test_file: TestFileOption = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Score only the first N examples of the split.", min=1)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Requests per search call (latency is per query).", min=1)] = 1,
    encoder: Annotated[str, typer.Option("--encoder", help="Dense encoder: dual (fine-tuned here; minilm for a task without train queries), minilm, use, e5 or a model directory.")] = "dual",
    cache: Annotated[Path, typer.Option("--cache", help="Where built indexes and models are kept and reused.")] = Path("runs/cache"),
    model: Annotated[Path | None, typer.Option("--model", help="Decoder directory from `onesearch train` (searcher generative).")] = None,
    model_encoder: Annotated[str | None, typer.Option("--model-encoder", help="Frozen encoder for --model (default: the one it was trained with).")] = None,
    beam: Annotated[int | None, typer.Option("--beam", help="Beam size of the generative searcher (default: the model's own).", min=1)] = None,
    exhaustive: Annotated[bool | None, typer.Option("--exhaustive/--no-exhaustive", help="Anchored models: score every item's code path, or walk the beam (default: every path for catalogs of at most 8,192 items).")] = None,
    spelling: Annotated[bool, typer.Option("--spelling/--no-spelling", help="Query understanding in front of every searcher: correct query spelling against the catalog (default), or only clean the text.")] = True,
    allow_leaks: Annotated[bool, typer.Option("--allow-leaks", help="Score even when the leakage audit finds evaluated examples whose answers reach training (the report is marked).")] = False,
    misspell_seed: Annotated[int | None, typer.Option("--misspell", help="Score a seeded misspelled copy of the split's queries (one edit in one word of 4+ letters each).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", help="Recipe key of the default generative model (no --model): KEY=VALUE, repeatable.")] = None,
    hybrid_weight: Annotated[float, typer.Option("--hybrid-weight", help="RRF weight of the generated list in hybrid (BM25's is 1).", min=0.0)] = 1.0,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Run SEARCHERs on a task split; write metrics.json, run.trec, report.md and plots to OUT."""
    _check(split, searcher, encoder)
    started = time.perf_counter()
    dataset = registry.load(task, data_root(data), test_file=test_file, source=source)
    fingerprint = registry.fingerprint(task, data_root(data), source, test_file)
    examples = [e for e in examples_of(dataset.examples) if e.split == split][:limit]
    if not examples:
        raise DataError(f"the {split} split of {task} has no examples")
    leaks = _audit(dataset, examples, allow_leaks)
    if encoder == "dual":
        encoder = shipped_encoder(dataset, task, console.print) or encoder
    cascade = None
    if {s for s in searcher if "=" not in s} - NO_CASCADE:
        cascade = build_cascade(dataset, cascade_directory(cache, task, dataset.training_fingerprint()), BuildSettings(encoder=encoder), log=lambda m: console.print(m))
    requests = ContextResolver(dataset).requests(examples)
    if misspell_seed is not None:
        requests = [replace(r, query=misspell(r.query, misspell_seed)) for r in requests]
    if model is None and {PlannedSearcher.name, HYBRID} & set(searcher):
        model = ensure_model(dataset, task, dataset.training_fingerprint(), cache, setting or [], encoder, log=console.print)
    load = Loader(dataset.items, beam, model_encoder, exhaustive)
    recommenders = Recommenders(dataset, cascade_directory(cache, task, dataset.training_fingerprint()), log=console.print)
    understand = QueryUnderstanding.for_items(dataset.items, spelling)
    runs = []
    for name in searcher:
        with _progress() as bar:
            job = bar.add_task(f"{name} on {task}/{split}", total=len(requests))
            if name in RECOMMENDERS:
                built = recommenders.make(name)
            elif name == RewardSearcher.name:
                assert cascade is not None
                built = RewardSearcher(build_reward(dataset, cascade, cascade_directory(cache, task, dataset.training_fingerprint()), log=console.print))
            else:
                built = _build(name, cascade, model, load, dataset.items["item_id"].to_pylist(), hybrid_weight)
            timed = Understood(built, understand)
            settle_heap(lambda: timed.search(requests[:WARM_UP], max(CUTOFFS)))  # timed as served: the loaded searcher out of the collector's walks
            runs.append(run_searcher(timed, requests, max(CUTOFFS), batch_size, lambda n: bar.advance(job, n)))
    train = (e for e in examples_of(dataset.examples) if e.split == "train")
    result = evaluate(runs, examples, Slicer(train), dataset.items.num_rows)
    result["run"] = {**_run_info(task, split, fingerprint, encoder, limit, started), "misspell_seed": misspell_seed, "spelling": spelling}
    result["leakage"] = {**leaks.as_dict(), "allowed": allow_leaks}
    with atomic_directory(out) as tmp:
        write_report(tmp, result, runs, [e.example_id for e in examples])
    typer.echo(markdown_table(result))
    console.print(f"wrote {out}/metrics.json, run.trec, report.md, recall_at_k.png, latency.png")


def _check(split: str, searchers: list[str], encoder: str) -> None:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    known = (*SEARCHERS, RewardSearcher.name, PlannedSearcher.name, HYBRID, RandomSearcher.name, *RECOMMENDERS)
    for name, path in _named_models(searchers).items():
        if not name or name in known or not (path / "manifest.json").is_file():
            raise DataError(f"--searcher {name}={path}: need a new name and a model directory from `onesearch train`")
    for name in searchers:
        if name not in known and "=" not in name:
            raise DataError(f"unknown searcher {name!r}: expected one of {', '.join(known)}")
    if len(set(searchers)) != len(searchers):
        raise DataError("each --searcher may be given once")
    if encoder not in ("dual", *SHIPPED) and not (Path(encoder) / "model.safetensors").is_file():
        raise DataError(f"unknown encoder {encoder!r}: expected dual, {', '.join(SHIPPED)} or a fine-tuned model directory")


def _audit(dataset: Dataset, examples: list[Example], allow_leaks: bool) -> LeakAudit:
    """The leakage audit of ``examples`` against the train split; a leak stops the eval unless allowed."""
    train = [e for e in examples_of(dataset.examples) if e.split == "train"]
    leaks = audit(train, examples, dataset.meta.get("split_by") == "query")
    console.print(leaks.line())
    if leaks.leaks and not allow_leaks:
        raise DataError(f"{leaks.line()}. Nothing was scored: fix the split, or pass --allow-leaks to score anyway (the report is marked)")
    return leaks


def _build(name: str, cascade: Cascade | None, model: Path | None, load: Loader, item_ids: list[str], hybrid_weight: float = 1.0) -> Searcher:
    """The named searcher: a cascade stage, the generative model, hybrid (RRF of generative and
    BM25) or the random floor."""
    if name == RandomSearcher.name:
        return RandomSearcher(item_ids)
    if "=" in name:
        label, path = name.split("=", 1)
        named = load(Path(path))
        named.name = label
        return named
    if name == PlannedSearcher.name:
        assert model is not None
        return load(model)
    assert cascade is not None
    if name == HYBRID:
        assert model is not None
        depth = load.beam or 50
        return FusedSearcher(HYBRID, [load(model), make_searcher("bm25", cascade)], depth=depth, weights=[hybrid_weight, 1.0])
    return make_searcher(name, cascade)


def _named_models(searchers: list[str]) -> dict[str, Path]:
    """``NAME=MODEL_DIR`` searchers: name -> model directory."""
    return {spec.split("=", 1)[0]: Path(spec.split("=", 1)[1]) for spec in searchers if "=" in spec}


def _run_info(task: str, split: str, fingerprint: str, encoder: str, limit: int | None, started: float) -> dict[str, object]:
    return {
        "task": task,
        "split": split,
        "data_fingerprint": fingerprint,
        "encoder": encoder,
        "limit": limit,
        "command": " ".join(["onesearch", *sys.argv[1:]]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


