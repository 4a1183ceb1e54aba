"""Crash trials: kill -9 the service at random points while it takes upserts, deletes, reloads and
events, restart it, and check that no acknowledged write is lost and nothing is half-applied.

    .venv/bin/python benchmarks/bench_crash.py BUNDLE [--trials 50] [--seed 0] [--data DIR] [--out runs/bench/crash.json]

BUNDLE must name a ``state`` file and an ``events`` log (the trials add to both; use a copy).
Each trial starts ``onesearch serve BUNDLE`` (a fresh process, state as the last one left it),
sends a random stream of changes — upserts of new items, deletes of items it upserted before,
reloads of the bundle's model (when it has one), events — and kills the process group with
SIGKILL at a random moment (0.2-2 s in). The next start must succeed on whatever the kill left
(a failed start is counted, and the trial stops); then every acknowledged upsert must be served
with its exact title, every acknowledged delete must be gone, every acknowledged event must be
in the log, and every log line must parse. A change in flight at the kill may be there or not,
but whole: an upserted item that is served has its exact title, and an item whose delete was in
flight is either served with its exact title or gone (and counted as such from then on). The last
line is JSON.
``tests/cli/test_crash.py`` runs three trials in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from _machine import machine, write_result

ADMIN_KEY = "crash-trials-admin-key"
INGEST_KEY = "crash-trials-ingest-key"


@dataclass
class Ledger:
    """What the service acknowledged, and what was in flight when it died."""

    upserted: dict[str, str] = field(default_factory=dict)  # item id -> title
    deleted: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)  # user ids of acknowledged events (one per event)
    in_flight: dict[str, str] = field(default_factory=dict)
    deleting: dict[str, str] = field(default_factory=dict)  # upserted items whose delete was in flight at a kill: there or gone
    operations: int = 0


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(bundle: Path, data: Path, port: int, timeout: float = 240.0) -> subprocess.Popen | None:
    """``onesearch serve`` on ``port``; None when it exits or never answers /healthz."""
    env = {**os.environ, "ONESEARCH_ADMIN_KEY": ADMIN_KEY, "ONESEARCH_INGEST_KEYS": f"trials={INGEST_KEY}"}
    command = [str(Path(sys.executable).with_name("onesearch")), "serve", str(bundle), "--port", str(port), "--data", str(data), "--ingest-rate", "1000"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return None
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    kill(server)
    return None


def kill(server: subprocess.Popen) -> None:
    """SIGKILL the server's whole process group and reap it."""
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(30)


def _stream(url: str, ledger: Ledger, trial: int, rng: random.Random, has_model: bool, stop: threading.Event) -> None:
    """Send random changes until the server dies; record what it acknowledged."""
    admin, ingest = {"Authorization": f"Bearer {ADMIN_KEY}"}, {"Authorization": f"Bearer {INGEST_KEY}"}
    number = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            number += 1
            kind = rng.choice(["upsert", "upsert", "delete", "event", "event"] + (["reload"] if has_model else []))
            try:
                if kind == "upsert" or (kind == "delete" and not ledger.upserted):
                    item, title = f"crash-{trial}-{number}", f"crash trial {trial} item {number} {rng.choice(['red', 'blue'])} kimono"
                    ledger.in_flight[item] = title
                    if client.post("/admin/items", json={"items": [{"item_id": item, "title": title}]}, headers=admin).status_code == 200:
                        ledger.upserted[item] = title
                    ledger.in_flight.pop(item, None)
                elif kind == "delete":
                    item = rng.choice(sorted(ledger.upserted))
                    ledger.deleting[item] = ledger.upserted.pop(item)
                    if client.delete(f"/admin/items/{item}", headers=admin).status_code == 200:
                        ledger.deleted.add(item)
                    else:
                        ledger.upserted[item] = ledger.deleting[item]
                    ledger.deleting.pop(item)
                elif kind == "event":
                    user, item = f"crash-{trial}-{number}", _any_item(client, ledger, rng)
                    if item and client.post("/events", json={"type": "click", "item_id": item, "user_id": user}, headers=ingest).status_code == 202:
                        ledger.events.add(user)
                else:
                    client.post("/admin/reload", json={}, headers=admin)
                ledger.operations += 1
            except httpx.TransportError:
                return


def _any_item(client: httpx.Client, ledger: Ledger, rng: random.Random) -> str | None:
    """An item the service serves: one the trials upserted, else the top BM25 hit of a common word."""
    if ledger.upserted:
        return rng.choice(sorted(ledger.upserted))
    for word in ("kimono", "shirt", "red", "the"):
        hits = client.post("/search", json={"query": word, "k": 1, "searcher": "bm25"}).json()["items"]
        if hits:
            return hits[0]["item_id"]
    return None


def check(url: str, ledger: Ledger, events: Path) -> list[str]:
    """What the restarted service lost or half-applied (empty: nothing)."""
    problems = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for item, title in ledger.upserted.items():
            found = client.get(f"/items/{item}")
            if found.status_code != 200 or found.json()["title"] != title:
                problems.append(f"acknowledged upsert {item} lost or changed ({found.status_code})")
        for item in ledger.deleted:
            if client.get(f"/items/{item}").status_code != 404:
                problems.append(f"acknowledged delete {item} came back")
        for item, title in ledger.in_flight.items():
            found = client.get(f"/items/{item}")
            if found.status_code == 200 and found.json()["title"] != title:
                problems.append(f"in-flight upsert {item} half-applied")
        for item, title in ledger.deleting.items():  # the delete was applied or not: either way, from now on it is known
            found = client.get(f"/items/{item}")
            if found.status_code == 200 and found.json()["title"] == title:
                ledger.upserted[item] = title
            elif found.status_code == 404:
                ledger.deleted.add(item)
            else:
                problems.append(f"in-flight delete of {item} half-applied ({found.status_code})")
        ledger.deleting.clear()
    logged = set()
    for number, line in enumerate(events.read_text(encoding="utf-8").splitlines() if events.exists() else [], start=1):
        try:
            logged.add(json.loads(line)["user_id"])
        except (json.JSONDecodeError, KeyError):
            problems.append(f"event log line {number} is broken")
    problems += [f"acknowledged event of {user} missing" for user in sorted(ledger.events - logged)]
    return problems


def run_trials(bundle: Path, data: Path, trials: int, seed: int = 0, log=print) -> dict:
    """Run the trials (module docstring); returns the counts."""
    import tomllib

    spec = tomllib.loads(bundle.read_text())
    if not spec.get("state") or not spec.get("events"):
        raise SystemExit("the bundle needs a state file and an events log")
    rng, ledger = random.Random(seed), Ledger()
    port = _port()
    failed_starts, problems, kills = 0, [], 0
    server = start(bundle, data, port)
    for trial in range(trials):
        if server is None:
            failed_starts += 1
            break
        stop = threading.Event()
        sender = threading.Thread(target=_stream, args=(f"http://127.0.0.1:{port}", ledger, trial, rng, bool(spec.get("model")), stop))
        sender.start()
        time.sleep(rng.uniform(0.2, 2.0))
        kill(server)
        kills += 1
        stop.set()
        sender.join(120)
        server = start(bundle, data, port)
        if server is None:
            failed_starts += 1
            break
        found = check(f"http://127.0.0.1:{port}", ledger, Path(spec["events"]))
        problems += found
        log(f"trial {trial + 1}/{trials}: {ledger.operations} operations so far, {len(ledger.upserted)} items kept, "
            f"{len(ledger.events)} events; {'ok' if not found else found}")
    if server is not None:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    return {"machine": machine(), "trials": trials, "kills": kills, "operations": ledger.operations, "acknowledged_upserts": len(ledger.upserted),
            "acknowledged_deletes": len(ledger.deleted), "acknowledged_events": len(ledger.events), "failed_starts": failed_starts,
            "lost_or_half_applied": len(problems), "problems": problems[:20]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run_trials(args.bundle, args.data, args.trials, args.seed)
    print(f"{machine()}\n{result['kills']} kills, {result['operations']} operations: {result['failed_starts']} failed starts, "
          f"{result['lost_or_half_applied']} acknowledged writes lost or half-applied")
    write_result(result, args.out)


if __name__ == "__main__":
    main()
