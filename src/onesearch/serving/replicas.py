"""``serve_replicas(factory, host, port, workers)``: replica processes of one ASGI app on one port,
the kernel spreading connections over them.

Contract: runs ``workers`` spawned processes until SIGINT or SIGTERM. Each loads the app from
``factory`` (an import string ``"module:function"`` that builds it), then binds its own listening
socket of ``host:port`` with ``SO_REUSEPORT`` and serves it with uvicorn. The kernel hashes each new
connection to one of those sockets, so keep-alive connections spread over the replicas.
(uvicorn's own process manager shares one socket: the first replica to wake accepts a whole burst
of connections. Measured with 16 keep-alive clients and 2 replicas: every answer came from one.)

A replica binds only once its app has loaded, so no connection waits on a loading replica. A
replica that dies is started again; its socket closes with it, and the others take new
connections meanwhile (the connections it held, and those that reached its socket in the
instant it died, are reset, as they are when any server process crashes). A replica that exits
before it ever served stops the service, and ``ReplicaError`` names its exit code: a broken bundle
would fail the same way on every restart.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import uvicorn
from uvicorn.main import STARTUP_FAILURE

from onesearch.errors import DataError

__all__ = ["ReplicaError", "serve_replicas"]

_POLL_SECONDS = 0.5


class ReplicaError(DataError):
    """A replica exited before it served (its exit code in the message), or this system cannot
    spread one port over processes."""


def serve_replicas(factory: str, host: str, port: int, workers: int, log_level: str = "warning") -> None:
    """Serve ``factory``'s app from ``workers`` replicas on ``host:port`` until interrupted (module docstring)."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ReplicaError("replicas need SO_REUSEPORT (Linux, macOS or BSD); serve with one worker here")
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    slots: list[tuple[BaseProcess, Event]] = []
    try:
        slots = [_start(spawn, factory, host, port, log_level) for _ in range(workers)]
        while not stop.wait(_POLL_SECONDS):
            for i, (process, served) in enumerate(slots):
                if process.is_alive():
                    continue
                if not served.is_set():
                    raise ReplicaError(f"a replica exited with code {process.exitcode} before it served (its log is above)")
                slots[i] = _start(spawn, factory, host, port, log_level)
    finally:
        _stop_all([process for process, _ in slots])
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(spawn: multiprocessing.context.SpawnContext, factory: str, host: str, port: int, log_level: str) -> tuple[BaseProcess, Event]:
    served = spawn.Event()
    process = spawn.Process(target=_replica, args=(factory, host, port, log_level, served), daemon=False)
    process.start()
    return process, served


def _stop_all(processes: list[BaseProcess], grace: float = 30.0) -> None:
    """SIGTERM every replica (uvicorn shuts down gracefully), SIGKILL those still alive after ``grace``."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join()


class _Replica(uvicorn.Server):
    """uvicorn's server that sets ``served`` once its startup is done: a death after that is
    restarted, one before it is fatal."""

    def __init__(self, config: uvicorn.Config, served: Event) -> None:
        super().__init__(config)
        self.served = served

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.served.set()


def _replica(factory: str, host: str, port: int, log_level: str, served: Event) -> None:
    """One replica: load the app, bind a ``SO_REUSEPORT`` socket, serve until SIGTERM."""
    config = uvicorn.Config(factory, factory=True, host=host, port=port, log_level=log_level)
    config.load()  # exits the process with an error logged when the factory fails
    server = _Replica(config, served)
    server.run(sockets=[_listener(host, port, config.backlog)])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _listener(host: str, port: int, backlog: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(address)
    listener.listen(backlog)
    return listener
