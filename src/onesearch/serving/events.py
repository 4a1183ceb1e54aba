"""``EventLog``: searches, impressions and posted clicks / carts / orders appended to a JSONL file
in the generic interaction format (``catalog/readers/generic.py``), so a shop's own traffic can
train its next model (``onesearch train --task generic --source DIR`` after moving the file
there as ``interactions.jsonl``).

Contract: ``append(rows)`` writes whole lines in one write under a thread lock and a file lock
(``<log>.lock``, shared by replicas) and flushes, so concurrent requests and replicas never
interleave and a crash loses at most the lines being written. Past ``rotate_bytes`` the log is
renamed, whole, to ``<log>.N`` (the next unused N; none is ever deleted) before the next write,
so no line is lost or split. Anonymous users are logged as ``anonymous``; ``time`` is epoch seconds.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ANONYMOUS", "EventLog"]

ANONYMOUS = "anonymous"


class EventLog:
    """An append-only JSONL log (None path: nothing is kept)."""

    def __init__(self, path: Path | None, rotate_bytes: int | None = None) -> None:
        self.path, self.rotate_bytes = path, rotate_bytes
        self._lock = threading.Lock()
        self._lock_file: Any = None  # <log>.lock, opened once (never rotated)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def search(self, user_id: str | None, query: str, session_id: str, item_ids: Sequence[str]) -> None:
        """One search row and one impression row per shown item (with its 1-based position)."""
        now = time.time()
        rows = [_row(user_id, "search", None, query, session_id, now)]
        rows += [{**_row(user_id, "impression", item, query, session_id, now), "position": rank} for rank, item in enumerate(item_ids, start=1)]
        self.append(rows)

    def interaction(self, kind: str, user_id: str | None, item_id: str, query: str | None, source: str | None = None) -> None:
        """A click, cart or order; ``source``: the name of the ingest key that posted it."""
        row = _row(user_id, kind, item_id, query, None, time.time())
        if source is not None:
            row["source"] = source
        self.append([row])

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.path is None or not rows:
            return
        data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
        with self._lock:
            if self._lock_file is None:
                self._lock_file = self.path.with_name(self.path.name + ".lock").open("a")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)  # replicas (processes) append to one file too
            try:
                self._rotate(len(data))
                with self.path.open("ab") as handle:
                    handle.write(data)
                    handle.flush()
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _rotate(self, incoming: int) -> None:
        """Move a full log aside as ``<log>.N`` (caller holds the locks)."""
        assert self.path is not None
        size = self.path.stat().st_size if self.path.exists() else 0
        if not self.rotate_bytes or size == 0 or size + incoming <= self.rotate_bytes:
            return
        number = 1
        while self.path.with_name(f"{self.path.name}.{number}").exists():
            number += 1
        os.replace(self.path, self.path.with_name(f"{self.path.name}.{number}"))


def _row(user_id: str | None, kind: str, item_id: str | None, query: str | None, session_id: str | None, now: float) -> dict[str, Any]:
    row: dict[str, Any] = {"user_id": user_id or ANONYMOUS, "type": kind, "time": round(now, 6)}
    for name, value in (("item_id", item_id), ("query", query), ("session_id", session_id)):
        if value is not None:
            row[name] = value
    return row
