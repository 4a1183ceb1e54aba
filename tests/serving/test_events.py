"""The event log under concurrent writers in two processes with a tiny rotation size: every line
lands whole in exactly one file, none is lost, none is split."""

from __future__ import annotations

import json
import multiprocessing
import threading

from onesearch.serving.events import EventLog


def _write(path, tag: str, count: int) -> None:
    log = EventLog(path, rotate_bytes=2_000)
    threads = [threading.Thread(target=lambda t=t: [log.interaction("click", f"{tag}-{t}", f"item-{n}", "q" * (n % 40)) for n in range(count)]) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_rotation_keeps_every_line_whole_across_processes_and_threads(tmp_path):
    path = tmp_path / "events.jsonl"
    workers = [multiprocessing.get_context("fork").Process(target=_write, args=(path, tag, 150)) for tag in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    files = sorted(tmp_path.glob("events.jsonl*"))
    rotated = [f for f in files if f.suffix not in (".jsonl", ".lock")]
    assert len(rotated) > 5  # it did rotate, often
    rows = []
    for file in files:
        if file.name.endswith(".lock"):
            continue
        text = file.read_text()
        assert text.endswith("\n")
        rows += [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 2 * 3 * 150
    seen = {(row["user_id"], row["item_id"]) for row in rows}
    assert len(seen) == len(rows)
    assert all(f.stat().st_size <= 2_000 + 200 for f in rotated)
