"""``onesearch demo``: the whole engine on one data set in one command, serving from the first minute.

Loads and validates the data set (a bad file stops here, before anything is built), then serves
the API and the page as soon as BM25 is indexed and builds the rest live behind it
(``cli.live.LiveBuild``: dense encoder, item vectors, the cascade's rankers, a catalog-sized
codebook, the task's default generative model — the anchored, planned searcher that ``onesearch
eval --searcher generative`` scores, no separate demo model); each searcher is swapped in when
it exists, and the page and ``GET /build`` show the build. A shop without query logs (a catalog
alone) is served with BM25, the shipped minilm encoder, an RRF cascade and a model trained on
pseudo-queries. Everything is cached in ``runs/cache`` by the data it learns from, so a second
run serves everything within a minute. Writes a ``bundle.toml`` to
``runs/demo/<task>-<training data fingerprint>`` for ``onesearch serve`` and prints a few example
searches side by side once built (``--no-serve``: build, print, stop).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onesearch.cascade.build import has_labels, has_query_logs
from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.cli.live import LiveBuild
from onesearch.cli.serve import admin_key, serve_live
from onesearch.cli.train import default_model, task_recipe
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.errors import DataError
from onesearch.serving.app import Settings
from onesearch.serving.engine import Engine
from onesearch.types import SearchRequest, UserContext

__all__ = ["demo_command"]

console = Console(stderr=True)
stdout = Console()
SHOWN = ("generative", "cascade")


def demo_command(
    task: Annotated[str, typer.Option("--task", help="Data set to demo (`onesearch data list`).")] = "homedepot",
    queries: Annotated[list[str] | None, typer.Option("--query", help="Example query (repeatable; default: three from the valid split).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the bundle, its event log and its catalog changes are kept.")] = Path("runs/demo"),
    cache: Annotated[Path, typer.Option("--cache", help="Shared with train/eval/index/serve: the cascade, its vectors, the codebook and the model.")] = Path("runs/cache"),
    encoder: Annotated[str, typer.Option("--encoder", help="The cascade's dense encoder and the codebook's: dual (fine-tuned here) or minilm, use, e5.")] = "dual",
    serving: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the page and API after the examples.")] = True,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Serve TASK at once (BM25 first) and build the rest live; show example searches when built."""
    root = data_root(data)
    dataset = registry.load(task, root, source=source)
    if encoder == "dual" and not has_query_logs(dataset):
        console.print("demo: no query logs yet, so there is nothing to fine-tune the encoder on: using the shipped minilm encoder"
                      + ("" if has_labels(dataset) else "; with no logs at all the rankers and behaviour wait too, and the generative model "
                         "learns from pseudo-queries cut from the catalog's titles"))
        encoder = "minilm"
    fingerprint = dataset.training_fingerprint()
    home = out / f"{task}-{fingerprint}"
    model = default_model(cache, task, fingerprint, task_recipe([], dataset), None if encoder == "dual" else encoder)
    bundle = Bundle(task=task, source=str(source) if source else None, model=str(model), encoder=encoder,
                    cache=str(cache), events=str(home / "events.jsonl"), state=str(home / "state.json"))
    bundle.write(home / "bundle.toml")
    build = LiveBuild(dataset, bundle, root, log=console.print)
    examples = queries or _valid_queries(dataset)

    def built(deployment: Deployment) -> None:
        stdout.print(_examples(deployment.engine, task, examples))
        console.print(f"serve it again with: onesearch serve {home}")

    if serving:
        serve_live(build, host, port, Settings(), admin_key(None), built)
        return
    deployment = build.run(lambda engine, deployment: None)
    if deployment is None:
        failed = next(step for step in build.board.snapshot() if step["status"] == "failed")
        raise DataError(f"the build stopped at {failed['name']}: {failed['note']}")
    built(deployment)


def _valid_queries(dataset: Dataset, count: int = 3) -> list[str]:
    """The first ``count`` distinct queries of the valid split."""
    found: list[str] = []
    for example in examples_of(dataset.examples):
        if example.split == "valid" and example.query and example.query not in found:
            found.append(example.query)
        if len(found) == count:
            break
    return found or ["gift"]


def _examples(engine: Engine, task: str, queries: list[str], k: int = 3) -> Table:
    """One row per query and searcher: the top-k titles, one per line, wrapped at word boundaries."""
    table = Table(title=f"onesearch demo: {task}, {len(engine.items):,} items", show_lines=True)
    for column in ("query", "searcher", "ms"):
        table.add_column(column, overflow="fold")
    table.add_column(f"top {k}", overflow="fold", ratio=1)
    for query in queries:
        for name in SHOWN:
            started = time.perf_counter()
            hits = engine.search(name, [SearchRequest(query, UserContext(None))], k)[0]
            took = (time.perf_counter() - started) * 1000
            titles = "\n".join(f"{n}. {engine.items[h.item_id].title}" for n, h in enumerate(hits, start=1))
            table.add_row(query, name, f"{took:.0f}", titles)
    return table
