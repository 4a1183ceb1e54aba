"""``onesearch serve BUNDLE``: one artifact bundle (``deploy.Bundle``) behind the HTTP API and the page.

The admin API (reload, item upsert and delete) is enabled by a key: the environment variable
``ONESEARCH_ADMIN_KEY`` or ``--admin-key-file`` (first line of the file). The key is never printed.

``--workers N`` runs N replica processes on one port (uvicorn's process manager, which restarts
a replica that dies). Each loads the bundle itself; they share the bundle's stored state, so an
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
from onesearch.serving.app import Settings, create_app
from onesearch.serving.engine import Engine
from onesearch.serving.events import EventLog

__all__ = ["admin_key", "replica_app", "serve_command", "serve_live", "serve_replicas"]

console = Console(stderr=True)
KEY_VARIABLE = "ONESEARCH_ADMIN_KEY"
REPLICA_VARIABLE = "ONESEARCH_REPLICA"


def serve_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle TOML file, or a directory with bundle.toml.")],
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="Most requests searched in one batch.")] = 16,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Waiting requests beyond which the service answers 429.")] = 256,
    timeout: Annotated[float, typer.Option("--timeout", min=0.01, help="Seconds before a search answers 504.")] = 10.0,
    admin_key_file: Annotated[Path | None, typer.Option("--admin-key-file", help=f"File holding the admin API key (else ${KEY_VARIABLE}; neither: admin off).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Replica processes on the port, sharing the bundle's stored state.")] = 1,
    orders_model: Annotated[Path | None, typer.Option("--orders-model", help="Order-diagnosis model from `onesearch orders fit`: enables POST /orders/diagnose (admin key) and the page's Orders tab.")] = None,
    data: DataOption = None,
) -> None:
    """Serve BUNDLE: POST /search, /recommend, /events; GET /items/{id}, /healthz, /metrics, /docs, the page at /; /admin/*."""
    key = admin_key(admin_key_file)
    spec = Bundle.read(bundle)
    settings = Settings(max_batch=max_batch, max_queue=max_queue, timeout=timeout)
    if orders_model is not None:
        load_diagnoser(orders_model)  # a broken folder stops here, before any replica starts
    if workers > 1:
        serve_replicas(spec, data_root(data), host, port, settings, key, workers, orders_model)
        return
    deployment = Deployment.open(spec, data_root(data), log=lambda m: console.print(m))
    serve(deployment, host, port, settings, key, orders_model)


def serve_replicas(spec: Bundle, root: Path, host: str, port: int, settings: Settings, key: str | None, workers: int,
                   orders_model: Path | None = None) -> None:
    """Run ``workers`` replica processes of ``spec`` on one port until interrupted."""
    import uvicorn

    if not spec.state:
        raise DataError("replicas share the bundle's stored state: give the bundle a state file (state = \"...\")")
    os.environ[REPLICA_VARIABLE] = json.dumps({"bundle": asdict(spec), "data": str(root), "settings": asdict(settings), "key": key,
                                               "orders": None if orders_model is None else str(orders_model)})
    console.print(f"serving {workers} replicas on http://{host}:{port} (docs: /docs; admin API {'on' if key else 'off'})")
    uvicorn.run("onesearch.cli.serve:replica_app", factory=True, workers=workers, host=host, port=port, log_level="warning")


def replica_app() -> Any:
    """One replica's app (uvicorn calls this in each worker process; the parent left its
    bundle, data root, settings and key in the environment)."""
    raw = json.loads(os.environ[REPLICA_VARIABLE])
    spec = Bundle(**raw["bundle"])
    deployment = Deployment.open(spec, Path(raw["data"]), log=lambda m: console.print(m))
    events = EventLog(Path(spec.events) if spec.events else None)
    orders = load_diagnoser(raw["orders"]) if raw.get("orders") else None
    return create_app(deployment.engine, events, Settings(**raw["settings"]), admin=deployment, admin_key=raw["key"], orders=orders)


def serve(deployment: Deployment, host: str, port: int, settings: Settings, key: str | None, orders_model: Path | None = None) -> None:
    """Run the app over ``deployment`` until interrupted."""
    import uvicorn

    spec = deployment.spec
    events = EventLog(Path(spec.events) if spec.events else None)
    orders = load_diagnoser(orders_model) if orders_model is not None else None
    app = create_app(deployment.engine, events, settings, admin=deployment, admin_key=key, orders=orders)
    engine = deployment.engine
    console.print(f"serving {', '.join(sorted(engine.searchers))} over {len(engine.items):,} items on http://{host}:{port} "
                  f"(docs: /docs; admin API {'on' if key else 'off'})")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve_live(build: LiveBuild, host: str, port: int, settings: Settings, key: str | None, built: Callable[[Deployment], None]) -> None:
    """Serve as soon as ``build`` publishes its first searcher, swap in each later one, call
    ``built`` with the deployment when every step is done; until interrupted."""
    import uvicorn

    spec = build.bundle
    events = EventLog(Path(spec.events) if spec.events else None)
    first, apps = threading.Event(), []

    def publish(engine: Engine, deployment: Deployment | None) -> None:
        if apps:
            apps[0].state.live.publish(engine, deployment)
        else:
            apps.append(create_app(engine, events, settings, admin=deployment, admin_key=key, build=build.board))
            first.set()
        console.print(f"serving {', '.join(sorted(engine.searchers))} over {len(engine.items):,} items on http://{host}:{port}")

    def work() -> None:
        deployment = build.run(publish)
        first.set()
        if deployment is not None:
            built(deployment)

    threading.Thread(target=work, name="live-build", daemon=True).start()
    first.wait()
    if not apps:
        failed = next(step for step in build.board.snapshot() if step["status"] == "failed")
        raise DataError(f"the build stopped at {failed['name']}: {failed['note']}")
    console.print(f"the page: http://{host}:{port}/ (the build goes on behind it: GET /build; admin API {'on' if key else 'off'})")
    uvicorn.run(apps[0], host=host, port=port, log_level="warning")


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
