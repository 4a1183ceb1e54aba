"""Load test of ``onesearch serve`` on loopback: throughput and p50/p99 latency against concurrency
for the generative and cascade searchers, then a reload-under-load run that counts failed searches.

Starts the service as its own process over a bundle (default: the Home Depot bundle), with the
events log and service state in a temporary folder so the bundle's own files are untouched. Each
load step is a closed loop: N clients send searches back to back (distinct valid-split queries,
cycled) for a fixed time, the searchers taking turns in each repeat round (so a slow spell of the
machine falls on each alike); each figure is the median over repeats, beside the server's CPU time
per answered search and the cores it used (Linux ``/proc``, replicas included; the load generator
shares the machine and reports its own CPU per search), and the first searcher's req/s over each
other's is the median of the rounds' paired ratios. Under load, the reload run
calls ``POST /admin/reload`` (the same model folder, loaded and verified again), upserts one new
item, then a batch of 100, deletes one, reloads again, and counts every search that did not answer
200 (it must be 0).

    .venv/bin/python benchmarks/bench_service_load.py [--bundle configs/serve/homedepot.toml]
        [--concurrency 1 4 16] [--seconds 15] [--repeats 3] [--out runs/bench/service-load.json]
        [--model DIR --beam 0]   # serve another model folder (e.g. the task's default) with its own beams (deep list and page)
        [--reload-seconds 0]     # skip the reload-under-load run
        [--workers 2]            # serve with replica processes (each its own interpreter and GIL)
        [--batch-threads 1]      # batches each replica searches at once (default 2)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import httpx

from _machine import machine
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.deploy.bundle import Bundle


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(bundle: Bundle, work: Path, key: str, max_queue: int, workers: int = 1, batch_threads: int = 2) -> tuple[subprocess.Popen, str]:
    """The service in its own process (``workers`` replicas); returns once /healthz answers
    (from every replica: distinct ``X-Onesearch-Replica`` headers on fresh connections)."""
    spec = replace(bundle, events=str(work / "events.jsonl"), state=str(work / "state.json"))
    spec.write(work / "bundle.toml")
    (work / "key").write_text(key)
    port = _free_port()
    command = [str(Path(sys.executable).with_name("onesearch")), "serve", str(work), "--port", str(port), "--admin-key-file", str(work / "key"), "--max-queue", str(max_queue), "--workers", str(workers),
               "--batch-threads", str(batch_threads)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    replicas: set[str] = set()
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the service stopped: see {work / 'server.log'}")
        try:
            answer = httpx.get(url + "/healthz", timeout=2)
            if answer.status_code == 200:
                replicas.add(answer.headers.get("X-Onesearch-Replica", ""))
                if len(replicas) >= workers:
                    return server, url
                continue
        except httpx.HTTPError:
            pass
        time.sleep(1)
    server.kill()
    raise SystemExit("the service did not start within 15 minutes")


async def _load(url: str, searcher: str, queries: list[str], clients: int, seconds: float) -> dict:
    """N clients, back to back, for ``seconds``: latencies of 200s and counts of the rest."""
    latencies: list[float] = []
    failed: dict[str, int] = {}
    replicas: dict[str, int] = {}  # answers per replica (X-Onesearch-Replica)
    stop = time.monotonic() + seconds

    async def client(start: int) -> None:
        n = start
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(url, timeout=timeout, connector=aiohttp.TCPConnector(limit=1)) as http:  # one keep-alive connection each
            while time.monotonic() < stop:
                body = {"query": queries[n % len(queries)], "k": 10, "searcher": searcher}
                n += clients
                began = time.perf_counter()
                try:
                    async with http.post("/search", json=body) as answer:
                        await answer.read()
                        status = answer.status
                        replica = answer.headers.get("X-Onesearch-Replica", "")
                        replicas[replica] = replicas.get(replica, 0) + 1
                except (aiohttp.ClientError, TimeoutError) as error:
                    status = type(error).__name__
                if status == 200:
                    latencies.append(time.perf_counter() - began)
                else:
                    failed[str(status)] = failed.get(str(status), 0) + 1

    began, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    ordered = sorted(latencies)
    return {
        "ok": len(ordered), "failed": failed, "throughput": len(ordered) / elapsed, "replicas": sorted(replicas.values(), reverse=True),
        "client_cpu_ms": 1000 * cpu / max(1, len(ordered)),
        "p50_ms": 1000 * ordered[len(ordered) // 2] if ordered else None,
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None,
    }


async def _reload_under_load(url: str, key: str, queries: list[str], clients: int, seconds: float, model: str) -> dict:
    """Searches under load while the admin API reloads the model and changes the catalog."""
    headers = {"Authorization": f"Bearer {key}"}
    load = asyncio.create_task(_load(url, "generative", queries, clients, seconds))
    calls = []
    async with httpx.AsyncClient(base_url=url, timeout=600, headers=headers) as admin:
        await asyncio.sleep(seconds * 0.1)
        for step, (method, path, body) in enumerate([
            ("POST", "/admin/reload", {"model": model}),
            ("POST", "/admin/items", {"items": [{"item_id": "bench-new-1", "title": "benchmark violet cordless kimono drill"}]}),
            ("POST", "/admin/items", {"items": [{"item_id": f"bench-batch-{n}", "title": f"benchmark cordless drill kit {n} volt"} for n in range(100)]}),
            ("DELETE", "/admin/items/bench-new-1", None),
            ("POST", "/admin/reload", {}),
        ]):
            began = time.perf_counter()
            response = await admin.request(method, path, json=body)
            calls.append({"call": f"{method} {path}", "status": response.status_code, "seconds": round(time.perf_counter() - began, 2)})
    searches = await load
    return {"searches_ok": searches["ok"], "searches_failed": searches["failed"], "admin_calls": calls,
            "p50_ms": searches["p50_ms"], "p99_ms": searches["p99_ms"]}


def _served_beams(bundle: Bundle) -> dict[str, int | None]:
    """The beams the service walks: the bundle's for every list, or (bundle beam 0) the model
    folder's own picks, its deep-list ``beam`` and its result-page ``page_beam``."""
    if bundle.beam or not bundle.model:
        return {"beam": bundle.beam or None, "page_beam": None}
    manifest = json.loads((Path(str(bundle.model)) / "manifest.json").read_text())
    return {"beam": manifest.get("beam") or manifest["config"]["recipe"]["beam"], "page_beam": manifest.get("page_beam")}


def _queries(bundle: Bundle, data: Path | None, count: int) -> list[str]:
    dataset = registry.load(bundle.task, data_root(data), source=Path(bundle.source) if bundle.source else None)
    seen: dict[str, None] = {}
    for example in examples_of(dataset.examples):
        if example.split == "valid" and example.query:
            seen.setdefault(example.query, None)
    return list(seen)[:count]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of process ``pid`` and of its live children (the
    replicas; Linux ``/proc``; 0 elsewhere)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _measured(pid: int, step: Callable[[], dict]) -> dict:
    """``step``'s load figures with the server's CPU ms per answered search and its cores in use."""
    cpu, began = _cpu_seconds(pid), time.monotonic()
    result = step()
    used = _cpu_seconds(pid) - cpu
    return {**result, "server_cpu_ms": 1000 * used / max(1, result["ok"]), "server_cores": used / (time.monotonic() - began)}


def _row(searcher: str, clients: int, runs: list[dict]) -> dict:
    """One table row: medians over the repeats, failures summed."""
    return {"searcher": searcher, "clients": clients, "failed": sum(sum(r["failed"].values()) for r in runs), "replicas": [r["replicas"] for r in runs],
            **{m: statistics.median(r[m] for r in runs) for m in ("throughput", "p50_ms", "p99_ms", "server_cpu_ms", "server_cores", "client_cpu_ms")}}


def _ratios(runs: dict[tuple[str, int], list[dict]], searchers: list[str], concurrency: list[int]) -> dict[str, dict[int, float]]:
    """Per other searcher and client count: the median over repeat rounds of the first
    searcher's req/s over the other's in the same round (paired, so a slow spell cancels)."""
    first = searchers[0]
    return {other: {clients: round(statistics.median(a["throughput"] / b["throughput"] for a, b in zip(runs[first, clients], runs[other, clients])), 2)
                    for clients in concurrency} for other in searchers[1:]}


def _table(rows: list[dict]) -> str:
    lines = ["| searcher | clients | req/s | p50 ms | p99 ms | failed | server CPU ms/search | server cores | load generator CPU ms/search |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['searcher']} | {r['clients']} | {r['throughput']:.1f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['failed']} | "
                     f"{r['server_cpu_ms']:.2f} | {r['server_cores']:.2f} | {r['client_cpu_ms']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("configs/serve/homedepot.toml"))
    parser.add_argument("--searchers", nargs="+", default=["generative", "cascade"])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reload-seconds", type=float, default=60.0)
    parser.add_argument("--max-queue", type=int, default=256)
    parser.add_argument("--workers", type=int, default=1, help="replica processes of the service (onesearch serve --workers)")
    parser.add_argument("--batch-threads", type=int, default=2, help="batches each replica searches at once (onesearch serve --batch-threads)")
    parser.add_argument("--model", type=Path, default=None, help="generative model folder to serve instead of the bundle's (e.g. the task's default model)")
    parser.add_argument("--beam", type=int, default=None, help="beam instead of the bundle's (0: the model's own)")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/service-load.json"))
    args = parser.parse_args()
    bundle = Bundle.read(args.bundle)
    if args.model is not None:
        bundle = replace(bundle, model=str(args.model))
    if args.beam is not None:
        bundle = replace(bundle, beam=args.beam)
    queries = _queries(bundle, args.data, 500)
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="onesearch-load-") as tmp:
        server, url = _start(bundle, Path(tmp), key, args.max_queue, args.workers, args.batch_threads)
        try:
            for searcher in args.searchers:
                asyncio.run(_load(url, searcher, queries, 1, 3.0))  # warm-up (lazy loads, caches)
            runs: dict[tuple[str, int], list[dict]] = {(s, c): [] for s in args.searchers for c in args.concurrency}
            for clients in args.concurrency:
                for _ in range(args.repeats):  # searchers interleaved, so the machine's slow spells fall on each alike
                    for searcher in args.searchers:
                        runs[searcher, clients].append(_measured(server.pid, lambda: asyncio.run(_load(url, searcher, queries, clients, args.seconds))))
                        print(f"{searcher} {clients} clients: {runs[searcher, clients][-1]['throughput']:.1f} req/s", flush=True)
            rows = [_row(searcher, clients, runs[searcher, clients]) for searcher in args.searchers for clients in args.concurrency]
            ratios = _ratios(runs, args.searchers, args.concurrency)
            reload = asyncio.run(_reload_under_load(url, key, queries, max(args.concurrency), args.reload_seconds, str(bundle.model))) if args.reload_seconds else None
            steady = next((r for r in rows if r["searcher"] == "generative" and r["clients"] == max(args.concurrency)), None)
            if reload is not None and steady is not None and reload["p99_ms"]:
                reload["p99_over_steady"] = round(reload["p99_ms"] / steady["p99_ms"], 2)  # the bar (31): at most 2
        finally:
            server.terminate()
            server.wait(30)
    report = {"machine": machine(), "bundle": str(args.bundle), "workers": args.workers, "batch_threads": args.batch_threads, "ratios": ratios, "model": bundle.model, **_served_beams(bundle), "seconds": args.seconds, "repeats": args.repeats, "load": rows, "reload_under_load": reload}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"machine: {machine()}\n\n{_table(rows)}\n\nreq/s of the first searcher over each other's, median of the rounds' ratios: {json.dumps(ratios)}"
          f"\n\nreload under load: {json.dumps(reload)}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
