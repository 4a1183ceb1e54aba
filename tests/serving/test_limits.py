"""Body limits on a real server over a raw socket: an oversized body is refused with 413 before it
is sent, a chunked one as soon as it passes the cap; admin batches get the larger cap."""

from __future__ import annotations

import json
import socket
import time

import pytest

from onesearch.serving.app import Settings, create_app

from .conftest import serve_in_thread

SETTINGS = Settings(max_body=1024, max_large_body=64 * 1024)


@pytest.fixture
def server(engine):
    app = create_app(engine, settings=SETTINGS, admin_key="a-long-enough-admin-key")
    yield from serve_in_thread(app)


def _exchange(port: int, head: str, body_parts: list[bytes]) -> tuple[int, dict, int]:
    """(status, JSON body, body parts sent before the answer came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head.encode())
        sent = 0
        conn.setblocking(False)
        answer = b""
        for part in body_parts:
            try:
                answer += conn.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                conn.sendall(part)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            time.sleep(0.01)
        conn.setblocking(True)
        conn.settimeout(5)
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(65536)
        head_part, _, rest = answer.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head_part.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(rest) < length:
            rest += conn.recv(65536)
    return int(head_part.split(b" ")[1]), json.loads(rest[:length]), sent


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server):
    parts = [b"x" * 1000] * 200
    status, body, sent = _exchange(server, "POST /search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n", parts)
    assert status == 413 and "1,024 bytes" in body["error"] and sent < 50


def test_a_chunked_body_is_cut_off_once_past_the_cap(server):
    chunk = b"3e8\r\n" + b"x" * 1000 + b"\r\n"
    status, body, sent = _exchange(server, "POST /events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", [chunk] * 200)
    assert status == 413 and sent < 50


def test_admin_batches_get_the_larger_cap_and_small_bodies_pass(server):
    body = json.dumps({"items": [{"item_id": f"n{i}", "title": "x" * 100} for i in range(20)]})
    status, answer, _ = _exchange(server, f"POST /admin/items HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n", [body.encode()])
    assert status == 401  # past the size check (2 KB > the 1 KB search cap), stopped by the key
    small = json.dumps({"query": "red shoe", "k": 3})
    status, answer, _ = _exchange(server, f"POST /search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len(small)}\r\n\r\n", [small.encode()])
    assert status == 200 and answer["items"]
