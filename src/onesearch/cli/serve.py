"""``onesearch serve BUNDLE``: one artifact bundle (``deploy.Bundle``) behind the HTTP API and the page.

The admin API (reload, item upsert and delete) is enabled by a key: the environment variable
``ONESEARCH_ADMIN_KEY`` or ``--admin-key-file`` (first line of the file). The key is never printed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onesearch.cli.data import DataOption, data_root
from onesearch.cli.live import LiveBuild
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.errors import DataError
from onesearch.serving.app import Settings, create_app
from onesearch.serving.engine import Engine
from onesearch.serving.events import EventLog

__all__ = ["admin_key", "serve_command", "serve_live"]

console = Console(stderr=True)
KEY_VARIABLE = "ONESEARCH_ADMIN_KEY"


def serve_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle TOML file, or a directory with bundle.toml.")],
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    max_batch: Annotated[int, typer.Option("--max-batch", min=1, help="Most requests searched in one batch.")] = 16,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="Waiting requests beyond which the service answers 429.")] = 256,
    timeout: Annotated[float, typer.Option("--timeout", min=0.01, help="Seconds before a search answers 504.")] = 10.0,
    admin_key_file: Annotated[Path | None, typer.Option("--admin-key-file", help=f"File holding the admin API key (else ${KEY_VARIABLE}; neither: admin off).")] = None,
    data: DataOption = None,
) -> None:
    """Serve BUNDLE: POST /search, /recommend, /events; GET /items/{id}, /healthz, /metrics, /docs, the page at /; /admin/*."""
    key = admin_key(admin_key_file)
    deployment = Deployment.open(Bundle.read(bundle), data_root(data), log=lambda m: console.print(m))
    serve(deployment, host, port, Settings(max_batch=max_batch, max_queue=max_queue, timeout=timeout), key)


def serve(deployment: Deployment, host: str, port: int, settings: Settings, key: str | None) -> None:
    """Run the app over ``deployment`` until interrupted."""
    import uvicorn

    spec = deployment.spec
    events = EventLog(Path(spec.events) if spec.events else None)
    app = create_app(deployment.engine, events, settings, admin=deployment, admin_key=key)
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
