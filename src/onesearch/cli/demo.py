"""``onesearch demo``: the whole engine on one data set in one command.

Prepares the data set, builds or reuses the cascade, a catalog-sized codebook and the task's
default generative model — the anchored, planned searcher that ``onesearch eval --searcher
generative`` scores, no separate demo model — all cached in ``runs/cache`` by data, recipe and
encoder, so a second run reuses everything; writes a ``bundle.toml`` to
``runs/demo/<task>-<training data fingerprint>`` for ``onesearch serve``, prints a few example searches
side by side, then serves the API and the page until Ctrl-C (``--no-serve`` stops after the
examples).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.cli.serve import admin_key, serve
from onesearch.cli.train import ensure_model
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.serving.app import Settings
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
    """Build or reuse everything for TASK, show example searches, serve the page."""
    root = data_root(data)
    dataset = registry.load(task, root, source=source)
    fingerprint = dataset.training_fingerprint()
    home = out / f"{task}-{fingerprint}"
    model = ensure_model(dataset, task, fingerprint, cache, [], encoder, log=console.print)
    bundle = Bundle(task=task, source=str(source) if source else None, model=str(model), encoder=encoder,
                    cache=str(cache), events=str(home / "events.jsonl"), state=str(home / "state.json"))
    bundle.write(home / "bundle.toml")
    deployment = Deployment.open(bundle, root, log=console.print)
    stdout.print(_examples(deployment, queries or _valid_queries(dataset)))
    console.print(f"serve it again with: onesearch serve {home}")
    if serving:
        serve(deployment, host, port, Settings(), admin_key(None))


def _valid_queries(dataset: Dataset, count: int = 3) -> list[str]:
    """The first ``count`` distinct queries of the valid split."""
    found: list[str] = []
    for example in examples_of(dataset.examples):
        if example.split == "valid" and example.query and example.query not in found:
            found.append(example.query)
        if len(found) == count:
            break
    return found or ["gift"]


def _examples(deployment: Deployment, queries: list[str], k: int = 3) -> Table:
    """One row per query and searcher: the top-k titles."""
    table = Table(title=f"onesearch demo: {deployment.spec.task}, {len(deployment.engine.items):,} items")
    for column in ("query", "searcher", "ms", f"top {k}"):
        table.add_column(column)
    for query in queries:
        for name in SHOWN:
            started = time.perf_counter()
            hits = deployment.engine.search(name, [SearchRequest(query, UserContext(None))], k)[0]
            took = (time.perf_counter() - started) * 1000
            titles = " | ".join(deployment.engine.items[h.item_id].title[:40] for h in hits)
            table.add_row(query, name, f"{took:.0f}", titles)
    return table
