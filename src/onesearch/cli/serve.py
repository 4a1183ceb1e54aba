"""``onesearch serve BUNDLE``: one artifact bundle behind the HTTP API and the web page.

A bundle is a TOML file (or a directory holding ``bundle.toml``) naming what to serve:

    task = "homedepot"              # data set (``onesearch data list``); source = DIR for generic
    model = "runs/models/..."       # generative model folder (optional: then no generative/hybrid)
    model_encoder = "runs/cache/..." # the model's frozen encoder, when not where its manifest says
    encoder = "dual"                # the cascade's dense encoder (the cascade is built or reused)
    cache = "runs/cache"
    beam = 50
    events = "runs/serve/events.jsonl"

Relative paths are read from the current directory. Unknown keys are refused with the file named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onesearch.cascade.build import BuildSettings, build_cascade
from onesearch.cascade.fusion import FusedSearcher
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset
from onesearch.cli.data import DataOption, data_root
from onesearch.errors import DataError
from onesearch.serving.app import Settings, create_app
from onesearch.serving.engine import Engine, ItemRecord
from onesearch.serving.events import EventLog
from onesearch.training.checkpoint import load_searcher
from onesearch.types import Searcher

__all__ = ["Bundle", "build_engine", "serve_command"]

console = Console(stderr=True)


@dataclass(frozen=True)
class Bundle:
    """What one service serves (see module docstring)."""

    task: str
    source: str | None = None
    model: str | None = None
    model_encoder: str | None = None
    encoder: str = "dual"
    cache: str = "runs/cache"
    beam: int = 50
    events: str | None = "runs/serve/events.jsonl"

    @classmethod
    def read(cls, path: Path) -> Bundle:
        """The bundle in ``path`` (a TOML file or a directory with ``bundle.toml``)."""
        file = path / "bundle.toml" if path.is_dir() else path
        try:
            raw = tomllib.loads(file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise DataError(f"cannot read bundle: {error}", path=file) from None
        unknown = sorted(set(raw) - {f.name for f in fields(cls)})
        if unknown or "task" not in raw:
            raise DataError(f"a bundle needs task and knows {sorted(f.name for f in fields(cls))}; unknown: {unknown}", path=file)
        return cls(**raw)


def serve_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle TOML file, or a directory with bundle.toml.")],
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="Most requests searched in one batch.")] = 16,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Waiting requests beyond which the service answers 429.")] = 256,
    timeout: Annotated[float, typer.Option("--timeout", min=0.01, help="Seconds before a search answers 504.")] = 10.0,
    data: DataOption = None,
) -> None:
    """Serve BUNDLE: POST /search, /recommend, /events; GET /items/{id}, /healthz, /metrics, /docs and the page at /."""
    import uvicorn

    spec = Bundle.read(bundle)
    engine = build_engine(spec, data)
    events = EventLog(Path(spec.events) if spec.events else None)
    app = create_app(engine, events, Settings(max_batch=max_batch, max_queue=max_queue, timeout=timeout))
    console.print(f"serving {', '.join(sorted(engine.searchers))} over {len(engine.items):,} items on http://{host}:{port} (docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def build_engine(spec: Bundle, data: Path | None = None) -> Engine:
    """Load the bundle's data set, cascade and model into an ``Engine``."""
    source = Path(spec.source) if spec.source else None
    dataset = registry.load(spec.task, data_root(data), source=source)
    fingerprint = registry.fingerprint(spec.task, data_root(data), source, None)
    cascade = build_cascade(dataset, Path(spec.cache) / f"{spec.task}-{fingerprint}", BuildSettings(encoder=spec.encoder), log=lambda m: console.print(m))
    searchers: dict[str, Searcher] = {name: make_searcher(name, cascade) for name in ("bm25", "cascade")}
    codes: dict[str, str] = {}
    if spec.model:
        generative = load_searcher(Path(spec.model), spec.beam, spec.model_encoder)
        searchers["generative"] = generative
        searchers["hybrid"] = FusedSearcher("hybrid", [generative, searchers["bm25"]], depth=spec.beam)
        codes = {item: "-".join(map(str, code)) for item, code in generative.code_of.items()}
    resolver = ContextResolver(dataset)
    return Engine(searchers, _records(dataset, codes), resolver.user)


def _records(dataset: Dataset, codes: dict[str, str]) -> list[ItemRecord]:
    columns = dataset.items.select(["item_id", "title", "brand", "category", "price"]).to_pydict()
    return [
        ItemRecord(item, title, brand, tuple(category or ()), price, codes.get(item))
        for item, title, brand, category, price in zip(columns["item_id"], columns["title"], columns["brand"], columns["category"], columns["price"])
    ]
