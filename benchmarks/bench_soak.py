"""Soak: a fixed search load with a catalog change every 30 s; memory growth and server errors.

    .venv/bin/python benchmarks/bench_soak.py BUNDLE [--seconds 600] [--clients 4] [--rate 20] [--change-every 30] [--out runs/bench/soak.json]

Starts ``onesearch serve BUNDLE`` (its ``state`` and ``events`` files grow: use a copy), then
``--clients`` threads each send ``--rate`` searches per second (generative, cascade and bm25 in
turn) and one event per second, for ``--seconds``; every ``--change-every`` seconds an item is
upserted and the previous one deleted. The server's resident memory (the process and its
children, from /proc) is read after a warm-up (``--warmup`` s; default the first 10% of the run,
at least 10 s) and at the end; the report gives its growth, the answers by status and the 5xx count. The last line is
JSON. ``tests/cli/test_soak.py`` runs 60 s of it in CI.
"""

from __future__ import annotations

import argparse
import collections
import signal
import threading
import time
from pathlib import Path

import httpx

from _machine import machine, write_result
from bench_crash import ADMIN_KEY, INGEST_KEY, _port, kill, start

QUERIES = ("red shoe", "blue wool hat", "green leather boots", "black scarf", "white cotton shirt", "kimono")
SEARCHERS = ("generative", "cascade", "bm25")


def rss_kib(pid: int) -> int:
    """Resident memory (KiB) of ``pid`` and its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack += [int(child) for child in children]
        except (OSError, StopIteration):
            continue
    return total


def _client(url: str, rate: float, stop: threading.Event, statuses: collections.Counter, lock: threading.Lock, number: int) -> None:
    ingest = {"Authorization": f"Bearer {INGEST_KEY}"}
    sent, started = 0, time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            body = {"query": QUERIES[(sent + number) % len(QUERIES)], "k": 10, "searcher": SEARCHERS[sent % len(SEARCHERS)]}
            try:
                answer = client.post("/search", json=body)
                codes = [answer.status_code]
                if sent % max(1, int(rate)) == 0 and answer.status_code == 200 and answer.json()["items"]:
                    item = answer.json()["items"][0]["item_id"]
                    codes.append(client.post("/events", json={"type": "click", "item_id": item, "user_id": f"soak-{number}"}, headers=ingest).status_code)
            except httpx.TransportError:
                codes = ["transport"]
            with lock:
                statuses.update(codes)
            sent += 1
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))


def run_soak(bundle: Path, data: Path, seconds: float, clients: int = 4, rate: float = 20.0, change_every: float = 30.0, log=print,
             warmup: float | None = None) -> dict:
    """Run the soak (module docstring); returns its report."""
    port = _port()
    server = start(bundle, data, port)
    if server is None:
        raise SystemExit("the service did not start")
    url, stop, lock = f"http://127.0.0.1:{port}", threading.Event(), threading.Lock()
    statuses: collections.Counter = collections.Counter()
    threads = [threading.Thread(target=_client, args=(url, rate, stop, statuses, lock, n), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    warm = warmup if warmup is not None else max(10.0, seconds * 0.1)
    started, changes, last, warm_rss = time.monotonic(), 0, None, None
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            while (elapsed := time.monotonic() - started) < seconds:
                if warm_rss is None and elapsed >= warm:
                    warm_rss = rss_kib(server.pid)
                if elapsed >= (changes + 1) * change_every:
                    changes += 1
                    item = f"soak-item-{changes}"
                    with lock:
                        statuses.update([client.post("/admin/items", json={"items": [{"item_id": item, "title": f"soak violet kimono {changes}"}]}, headers=admin).status_code])
                        if last:
                            statuses.update([client.delete(f"/admin/items/{last}", headers=admin).status_code])
                    last = item
                    log(f"{elapsed:.0f} s: change {changes}, rss {rss_kib(server.pid) / 1024:.0f} MiB, answers {dict(statuses)}")
                time.sleep(0.5)
        end_rss = rss_kib(server.pid)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except Exception:  # noqa: BLE001 - a server that will not stop is killed
            kill(server)
    warm_rss = warm_rss or end_rss
    errors = sum(count for status, count in statuses.items() if isinstance(status, int) and status >= 500)
    return {"machine": machine(), "seconds": seconds, "clients": clients, "rate_per_client": rate, "changes": changes,
            "answers": {str(status): count for status, count in statuses.items()}, "server_errors": errors,
            "rss_warm_mib": round(warm_rss / 1024, 1), "rss_end_mib": round(end_rss / 1024, 1),
            "rss_growth": round(end_rss / warm_rss - 1, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--change-every", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run_soak(args.bundle, args.data, args.seconds, args.clients, args.rate, args.change_every, warmup=args.warmup)
    print(f"{machine()}\n{args.seconds:.0f} s, {result['changes']} changes: {result['server_errors']} 5xx; "
          f"RSS {result['rss_warm_mib']} -> {result['rss_end_mib']} MiB ({result['rss_growth']:+.1%})")
    write_result(result, args.out)


if __name__ == "__main__":
    main()
