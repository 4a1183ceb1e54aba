"""``onesearch demo``: the whole engine on one data set in one command.

Prepares the data set, builds or reuses the cascade (``runs/cache``), a keyword-enhanced codebook
and a small generative model with its own text encoder (``runs/demo/<task>-<data fingerprint>``,
so a second run reuses everything), writes a ``bundle.toml`` there for ``onesearch serve``, prints
a few example searches side by side, then serves the API and the page until Ctrl-C
(``--no-serve`` stops after the examples).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onesearch.cascade.build import cascade_directory
from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.cli.index import build_codebook
from onesearch.cli.serve import admin_key, serve
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.semantic_ids.codebook import CodebookConfig
from onesearch.serving.app import Settings
from onesearch.training.recipe import Recipe, run
from onesearch.types import SearchRequest, UserContext

__all__ = ["demo_codebook", "demo_command"]

console = Console(stderr=True)
stdout = Console()
# A small model with its own shop-trained tokenizer (no slow frozen-encoder pass over every text).
RECIPE = [
    'encoder="scratch"', "vocab_size=8000", "pseudo_per_item=1",
    "model.d_model=128", "model.layers=2", "model.heads=4", "model.feedforward=256", "model.text_layers=2",
    "views.short_queries=0",
    "train.align_epochs=1", "train.cooccur_epochs=3", "train.personal_epochs=0", "train.batch_size=128", "train.learning_rate=0.001",
]
SHOWN = ("generative", "cascade")


def demo_command(
    task: Annotated[str, typer.Option("--task", help="Data set to demo (`onesearch data list`).")] = "homedepot",
    queries: Annotated[list[str] | None, typer.Option("--query", help="Example query (repeatable; default: three from the valid split).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the codebook, model and bundle are kept.")] = Path("runs/demo"),
    cache: Annotated[Path, typer.Option("--cache", help="Shared with eval/index/serve: the cascade and its vectors.")] = Path("runs/cache"),
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
    fingerprint = registry.fingerprint(task, root, source, None)
    home = out / f"{task}-{fingerprint}"
    bundle = Bundle(task=task, source=str(source) if source else None, model=str(home / "model"), encoder=encoder,
                    cache=str(cache), events=str(home / "events.jsonl"), state=str(home / "state.json"))
    _prepare(dataset, bundle, cascade_directory(cache, task, fingerprint), home)
    bundle.write(home / "bundle.toml")
    deployment = Deployment.open(bundle, root, log=console.print)
    stdout.print(_examples(deployment, queries or _valid_queries(dataset)))
    console.print(f"serve it again with: onesearch serve {home}")
    if serving:
        serve(deployment, host, port, Settings(), admin_key(None))


def demo_codebook(items: int) -> CodebookConfig:
    """A codebook sized for a catalog of ``items``: about sqrt(n) coarse codes (4-256); OPQ
    sub-codes only where there are enough items to fit them."""
    coarse = int(min(256, max(4, 2 ** round(math.log2(max(2.0, math.sqrt(items)))))))
    levels = (coarse, max(4, coarse // 4), 32 if items >= 10_000 else 4)
    return CodebookConfig(levels=levels, opq_subcodes=2 if items >= 5_000 else 0)


def _prepare(dataset: Dataset, bundle: Bundle, cascade_dir: Path, home: Path) -> None:
    """Build the codebook and the model unless ``home`` has them."""
    index, model = home / "index", Path(bundle.model or home / "model")
    if not (index / "manifest.json").is_file():
        console.print(f"demo: coding {len(dataset.items):,} items")
        build_codebook(dataset, cascade_dir, index, demo_codebook(len(dataset.items)), True, bundle.encoder)
    if not (model / "manifest.json").is_file():
        console.print("demo: training a small generative model (CPU: minutes)")
        run(Recipe.from_toml(None, RECIPE, task=bundle.task, index=str(index)), dataset, model, log=console.print)


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
