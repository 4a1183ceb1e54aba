"""``onesearch serve BUNDLE``: one artifact bundle (``deploy.Bundle``) behind the HTTP API and the page.

The admin API (reload, item upsert and delete) is enabled by a key: the environment variable
``ONESEARCH_ADMIN_KEY`` or ``--admin-key-file`` (first line of the file). ``POST /events`` takes
the named ingest keys of ``--ingest-keys-file`` (``NAME KEY`` lines) or ``ONESEARCH_INGEST_KEYS``
(``NAME=KEY,...``), each rate-limited (``--ingest-rate``). Keys are never printed.

``--workers N`` runs N replica processes on one port (``serving.replicas``: each its own
``SO_REUSEPORT`` socket, so the kernel spreads connections over them; a replica that dies is
started again). Each loads the bundle itself; they share the bundle's stored state, so an
admin change made through any of them is served by all (``deploy.Deployment``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from onesearch.cli.data import DataOption, data_root
from onesearch.cli.live import LiveBuild
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.errors import DataError
from onesearch.orders.model import load_diagnoser
from onesearch.memory import settle_heap
from onesearch.serving.app import Settings, create_app
from onesearch.serving.engine import Engine
from onesearch.serving.events import EventLog
from onesearch.serving.keys import IngestKeys
from onesearch.serving.replicas import serve_replicas

__all__ = ["admin_key", "ingest_keys", "replica_app", "serve_command", "serve_live", "serve_workers"]

console = Console(stderr=True)
KEY_VARIABLE = "ONESEARCH_ADMIN_KEY"
INGEST_VARIABLE = "ONESEARCH_INGEST_KEYS"
REPLICA_VARIABLE = "ONESEARCH_REPLICA"


def serve_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle TOML file, or a directory with bundle.toml.")],
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="Most requests searched in one batch.")] = 16,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Waiting requests beyond which the service answers 429.")] = 256,
    timeout: Annotated[float, typer.Option("--timeout", min=0.01, help="Seconds before a search answers 504.")] = 10.0,
    max_body_kb: Annotated[int, typer.Option("--max-body-kb", min=1, help="Largest search or event body (KB); larger ones answer 413 unread.")] = 64,
    max_batch_body_mb: Annotated[int, typer.Option("--max-batch-body-mb", min=1, help="Largest admin or order-diagnosis body (MB).")] = 8,
    admin_key_file: Annotated[Path | None, typer.Option("--admin-key-file", help=f"File holding the admin API key (else ${KEY_VARIABLE}; neither: admin off).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Replica processes on the port, sharing the bundle's stored state.")] = 1,
    batch_threads: Annotated[int, typer.Option("--batch-threads", min=1, help="Batches each replica searches at once (threads); fewer threads make bigger batches.")] = 2,
    ingest_keys_file: Annotated[Path | None, typer.Option("--ingest-keys-file", help=f"File of 'NAME KEY' lines: the keys POST /events takes (else ${INGEST_VARIABLE} as NAME=KEY,...; neither: ingest off).")] = None,
    ingest_rate: Annotated[float, typer.Option("--ingest-rate", min=0.1, help="Events per second each ingest key may post (bursts of 5 seconds' worth).")] = 20.0,
    state_fallback: Annotated[bool, typer.Option("--state-fallback", help="Start from the previous generation of a corrupt or unreadable state file (else the start stops, naming it).")] = False,
    orders_model: Annotated[Path | None, typer.Option("--orders-model", help="Order-diagnosis model from `onesearch orders fit`: enables POST /orders/diagnose (admin key) and the page's Orders tab.")] = None,
    data: DataOption = None,
) -> None:
    """Serve BUNDLE: POST /search, /recommend, /events; GET /items/{id}, /healthz, /metrics, /docs, the page at /; /admin/*."""
    key = admin_key(admin_key_file)
    ingest = ingest_keys(ingest_keys_file, ingest_rate)
    spec = Bundle.read(bundle)
    settings = Settings(max_batch=max_batch, max_queue=max_queue, timeout=timeout, max_body=max_body_kb * 1024, max_large_body=max_batch_body_mb * 1024 * 1024, workers=batch_threads)
    if orders_model is not None:
        load_diagnoser(orders_model)  # a broken folder stops here, before any replica starts
    if workers > 1:
        serve_workers(spec, data_root(data), host, port, settings, key, workers, orders_model, ingest, state_fallback)
        return
    deployment = Deployment.open(spec, data_root(data), log=lambda m: console.print(m), state_fallback=state_fallback)
    serve(deployment, host, port, settings, key, orders_model, ingest)


def serve_workers(spec: Bundle, root: Path, host: str, port: int, settings: Settings, key: str | None, workers: int,
                   orders_model: Path | None = None, ingest: IngestKeys | None = None, state_fallback: bool = False) -> None:
    """Run ``workers`` replica processes of ``spec`` on one port until interrupted."""
    if not spec.state:
        raise DataError("replicas share the bundle's stored state: give the bundle a state file (state = \"...\")")
    os.environ[REPLICA_VARIABLE] = json.dumps({"bundle": asdict(spec), "data": str(root), "settings": asdict(settings), "key": key,
                                               "orders": None if orders_model is None else str(orders_model),
                                               "ingest": None if ingest is None else {"keys": ingest.keys, "rate": ingest.rate, "burst": ingest.burst},
                                               "state_fallback": state_fallback})
    console.print(f"serving {workers} replicas on http://{host}:{port} (docs: /docs; admin API {'on' if key else 'off'})")
    serve_replicas("onesearch.cli.serve:replica_app", host, port, workers)


def replica_app() -> Any:
    """One replica's app (uvicorn calls this in each worker process; the parent left its
    bundle, data root, settings and key in the environment)."""
    raw = json.loads(os.environ[REPLICA_VARIABLE])
    spec = Bundle(**raw["bundle"])
    deployment = Deployment.open(spec, Path(raw["data"]), log=lambda m: console.print(m), state_fallback=raw.get("state_fallback", False))
    events = event_log(spec)
    orders = load_diagnoser(raw["orders"]) if raw.get("orders") else None
    ingest = IngestKeys(**raw["ingest"]) if raw.get("ingest") else None
    settle_heap(deployment.engine.warm_up)
    return create_app(deployment.engine, events, Settings(**raw["settings"]), admin=deployment, admin_key=raw["key"], orders=orders, ingest=ingest)


def serve(deployment: Deployment, host: str, port: int, settings: Settings, key: str | None, orders_model: Path | None = None,
          ingest: IngestKeys | None = None) -> None:
    """Run the app over ``deployment`` until interrupted."""
    import uvicorn

    spec = deployment.spec
    events = event_log(spec)
    orders = load_diagnoser(orders_model) if orders_model is not None else None
    app = create_app(deployment.engine, events, settings, admin=deployment, admin_key=key, orders=orders, ingest=ingest)
    engine = deployment.engine
    settle_heap(engine.warm_up)
    console.print(f"serving {', '.join(sorted(engine.searchers))} over {len(engine.items):,} items on http://{host}:{port} "
                  f"(docs: /docs; admin API {'on' if key else 'off'}; event ingest {'on' if ingest else 'off'})")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve_live(build: LiveBuild, host: str, port: int, settings: Settings, key: str | None, built: Callable[[Deployment], None],
               ingest: IngestKeys | None = None) -> None:
    """Serve as soon as ``build`` publishes its first searcher, swap in each later one, call
    ``built`` with the deployment when every step is done; until interrupted."""
    import uvicorn

    spec = build.bundle
    events = event_log(spec)
    first, apps = threading.Event(), []

    def publish(engine: Engine, deployment: Deployment | None) -> None:
        if apps:
            apps[0].state.live.publish(engine, deployment)
        else:
            apps.append(create_app(engine, events, settings, admin=deployment, admin_key=key, build=build.board, ingest=ingest))
            first.set()
        console.print(f"serving {', '.join(sorted(engine.searchers))} over {len(engine.items):,} items on http://{host}:{port}")

    def work() -> None:
        deployment = build.run(publish)
        first.set()
        if deployment is not None:
            settle_heap(deployment.engine.warm_up)
            built(deployment)

    threading.Thread(target=work, name="live-build", daemon=True).start()
    first.wait()
    if not apps:
        failed = next(step for step in build.board.snapshot() if step["status"] == "failed")
        raise DataError(f"the build stopped at {failed['name']}: {failed['note']}")
    console.print(f"the page: http://{host}:{port}/ (the build goes on behind it: GET /build; admin API {'on' if key else 'off'})")
    uvicorn.run(apps[0], host=host, port=port, log_level="warning")


def event_log(spec: Bundle) -> EventLog:
    """The bundle's event log (rotated past ``events_rotate_mb``), or none."""
    return EventLog(Path(spec.events) if spec.events else None, spec.events_rotate_mb * 1024 * 1024)


def ingest_keys(path: Path | None, rate: float = 20.0) -> IngestKeys | None:
    """The ingest keys from ``path`` or the environment; None: ingest off (``POST /events`` 403)."""
    burst = max(1, int(rate * 5))
    if path is None:
        text = os.environ.get(INGEST_VARIABLE)
        return IngestKeys.parse(text, f"${INGEST_VARIABLE}", rate, burst) if text else None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the ingest keys: {type(error).__name__}", path=path) from None
    return IngestKeys.parse(text, str(path), rate, burst)


def admin_key(path: Path | None) -> str | None:
    """The admin key from ``path`` (first line) or the environment; None: admin off."""
    if path is None:
        return os.environ.get(KEY_VARIABLE) or None
    try:
        key = path.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the admin key: {type(error).__name__}", path=path) from None
    if not key or len(key[0]) < 16:
        raise DataError("the admin key file must hold a key of at least 16 characters on its first line", path=path)
    return key[0]
