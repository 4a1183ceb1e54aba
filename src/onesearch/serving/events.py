"""``EventLog``: searches, impressions and posted clicks / carts / orders appended to a JSONL file
in the generic interaction format (``catalog/readers/generic.py``), so a shop's own traffic can
train its next model (``onesearch train --task generic --source DIR`` after moving the file
there as ``interactions.jsonl``).

Contract: ``append(rows)`` writes whole lines under a thread and a file lock and flushes, so
concurrent requests and replicas never interleave and a crash loses at most the line being written; anonymous users are logged as
``anonymous``; ``time`` is epoch seconds.
"""

from __future__ import annotations

import fcntl
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ANONYMOUS", "EventLog"]

ANONYMOUS = "anonymous"


class EventLog:
    """An append-only JSONL log (None path: nothing is kept)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def search(self, user_id: str | None, query: str, session_id: str, item_ids: Sequence[str]) -> None:
        """One search row and one impression row per shown item (with its 1-based position)."""
        now = time.time()
        rows = [_row(user_id, "search", None, query, session_id, now)]
        rows += [{**_row(user_id, "impression", item, query, session_id, now), "position": rank} for rank, item in enumerate(item_ids, start=1)]
        self.append(rows)

    def interaction(self, kind: str, user_id: str | None, item_id: str, query: str | None) -> None:
        """A click, cart or order."""
        self.append([_row(user_id, kind, item_id, query, None, time.time())])

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.path is None or not rows:
            return
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # replicas (processes) append to one file too
            handle.write(text)
            handle.flush()


def _row(user_id: str | None, kind: str, item_id: str | None, query: str | None, session_id: str | None, now: float) -> dict[str, Any]:
    row: dict[str, Any] = {"user_id": user_id or ANONYMOUS, "type": kind, "time": round(now, 6)}
    for name, value in (("item_id", item_id), ("query", query), ("session_id", session_id)):
        if value is not None:
            row[name] = value
    return row
