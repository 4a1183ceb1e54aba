"""``onesearch serve --workers 2``: two replica processes on one port; an upsert made through one
is served by both, and a replica killed and restarted by the process manager loses nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KEY = "replica-test-admin-key"
NEW = {"item_id": "new-1", "title": "orbit violet silk kimono", "brand": "orbit", "category": ["apparel", "kimono"], "price": 80.0}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replicas_seen(client: httpx.Client, query: str, wanted: int, tries: int = 200, resets_until: float = 0.0) -> dict[str, list[str]]:
    """Top items by replica process id, until ``wanted`` replicas have answered; a connection
    reset is retried only before ``resets_until`` (a time)."""
    seen: dict[str, list[str]] = {}
    for _ in range(tries):
        try:
            with httpx.Client(base_url=str(client.base_url), timeout=30) as fresh:  # a new connection may land on another replica
                response = fresh.post("/search", json={"query": query, "k": 5, "searcher": "bm25"})
        except httpx.TransportError:
            if time.time() < resets_until:
                continue
            raise
        assert response.status_code == 200, response.text
        seen[response.headers["X-Onesearch-Replica"]] = [hit["item_id"] for hit in response.json()["items"]]
        if len(seen) >= wanted:
            break
    return seen


@pytest.mark.slow
def test_two_replicas_serve_an_upsert_made_through_either_and_survive_a_restart(tiny_shop_module, anchored_trained, shared_data, tmp_path):
    tmp, _, _, _ = anchored_trained
    bundle = tmp_path / "bundle.toml"
    bundle.write_text(f'task = "generic"\nsource = "{tiny_shop_module}"\nencoder = "minilm"\ncache = "{tmp / "cache"}"\nevents = "{tmp_path / "events.jsonl"}"\n'
                      f'state = "{tmp_path / "state.json"}"\n')
    port = _port()
    env = {**os.environ, "ONESEARCH_ADMIN_KEY": KEY}
    server = subprocess.Popen([str(Path(sys.executable).with_name("onesearch")), "serve", str(bundle), "--workers", "2", "--port", str(port), "--data", str(shared_data)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline, up = time.time() + 240, set()
            while len(up) < 2:  # both replicas answer (one may load well after the other)
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                try:
                    with httpx.Client(base_url=str(client.base_url), timeout=30) as fresh:
                        health = fresh.get("/healthz")
                    if health.status_code == 200:
                        up.add(health.headers["X-Onesearch-Replica"])
                except httpx.TransportError:
                    pass
                assert time.time() < deadline, f"the replicas never came up ({len(up)} of 2)"
                time.sleep(0.1 if up else 0.5)
            answer = client.post("/admin/items", json={"items": [NEW]}, headers={"Authorization": f"Bearer {KEY}"})
            assert answer.status_code == 200, answer.text
            seen = _replicas_seen(client, "violet silk kimono", 2)
            assert len(seen) == 2 and all(top[0] == "new-1" for top in seen.values()), seen
            killed = int(next(iter(seen)))
            os.kill(killed, signal.SIGKILL)
            # connections that reach its socket while it dies are reset, as with any crashed server
            # (clients and load balancers retry those); after a moment the survivor takes them all
            seen_after = _replicas_seen(client, "violet silk kimono", 2, tries=600, resets_until=time.time() + 2.0)
            assert len(seen_after) == 2 and all(top[0] == "new-1" for top in seen_after.values()), seen_after
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
