"""``serving.replicas``: keep-alive connections spread over the replicas, a dead replica is
replaced, and a replica that cannot start stops the service with one error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

PROBE = textwrap.dedent('''
    import os

    def app():
        if os.environ.get("PROBE_BROKEN"):
            raise RuntimeError("the bundle is broken")

        async def answer(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
        return answer
''')
RUN = "from onesearch.serving.replicas import serve_replicas, ReplicaError\ntry:\n    serve_replicas('replica_probe:app', '127.0.0.1', {port}, 2)\nexcept ReplicaError as error:\n    print(error)\n    raise SystemExit(2)\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, port: int, broken: bool = False) -> subprocess.Popen:
    (tmp_path / "replica_probe.py").write_text(PROBE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), **({"PROBE_BROKEN": "1"} if broken else {})}
    return subprocess.Popen([sys.executable, "-c", RUN.format(port=port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _pids_of(url: str, connections: int) -> list[str]:
    """The replica that answered each of ``connections`` fresh keep-alive connections."""
    clients = [httpx.Client(base_url=url, timeout=10) for _ in range(connections)]
    try:
        return [client.get("/").text for client in clients]
    finally:
        for client in clients:
            client.close()


def _wait_up(server: subprocess.Popen, url: str, wanted: int, seconds: float = 60) -> set[str]:
    deadline, seen = time.time() + seconds, set()
    while len(seen) < wanted:
        assert server.poll() is None, server.communicate()
        assert time.time() < deadline, f"only {len(seen)} of {wanted} replicas answered"
        try:
            seen.update(_pids_of(url, 4))
        except httpx.TransportError:
            time.sleep(0.2)
    return seen


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_keep_alive_connections_spread_and_a_dead_replica_is_replaced(tmp_path):
    port = _port()
    server = _start(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        first = _wait_up(server, url, 2)
        assert len(set(_pids_of(url, 16))) == 2  # 16 connections on one replica: 2 in 65,536
        killed = int(next(iter(first)))
        os.kill(killed, signal.SIGKILL)
        time.sleep(0.5)
        after = _wait_up(server, url, 2)
        assert str(killed) not in after and len(after) == 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    assert server.returncode == 0


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_a_replica_that_cannot_start_stops_the_service_with_one_line(tmp_path):
    server = _start(tmp_path, _port(), broken=True)
    out, _ = server.communicate(timeout=120)
    assert server.returncode == 2
    assert out.decode().strip().splitlines() == ["a replica exited with code 1 before it served (its log is above)"]
