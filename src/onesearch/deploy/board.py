"""``BuildBoard``: the state of a staged build — each step's status, progress, elapsed time and ETA.

Contract: steps are declared up front (``BuildBoard(names, log)``) and move waiting -> running ->
done | failed | skipped, each once. ``advance(name, done, total)`` reports progress of the running
step; the ETA is the elapsed time scaled by what is left (None until some progress). Every change
is thread-safe (the build runs in a worker thread, the service reads ``snapshot()``). The terminal
hears each transition and, at most every ``LOG_EVERY`` seconds per step, its progress with ETA.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BuildBoard", "StepState", "clock"]

LOG_EVERY = 10.0
STATUSES = ("waiting", "running", "done", "failed", "skipped")


@dataclass
class StepState:
    """One step of the build."""

    name: str
    status: str = "waiting"
    done: int = 0
    total: int | None = None
    started: float | None = None
    finished: float | None = None
    note: str = ""

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.finished or now) - self.started

    def eta(self, now: float) -> float | None:
        """Seconds left at the rate so far; None when unknown."""
        elapsed = self.elapsed(now)
        if self.status != "running" or not self.total or not self.done or elapsed is None:
            return None
        return elapsed * (self.total - self.done) / self.done


def clock(seconds: float | None) -> str:
    """``1m05s`` style; ``-`` for unknown."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


class BuildBoard:
    """Thread-safe step states (see module docstring)."""

    def __init__(self, names: Sequence[str], log: Callable[[str], None] = print) -> None:
        self.steps = {name: StepState(name) for name in names}
        self.log = log
        self._lock = threading.Lock()
        self._logged: dict[str, float] = {}

    def start(self, name: str) -> None:
        self._move(name, "running", "")
        self.log(f"build: {name} ...")

    def advance(self, name: str, done: int, total: int | None) -> None:
        """Progress of the running step ``name``: ``done`` of ``total`` units."""
        now = time.monotonic()
        with self._lock:
            step = self.steps[name]
            step.done, step.total = done, total
            since = self._logged.get(name, now if step.started is None else step.started)
            due = now - since >= LOG_EVERY
            if due:
                self._logged[name] = now
            line = f"build: {name} {done:,}/{total:,} ({100 * done / max(1, total):.0f}%), {clock(step.elapsed(now))} elapsed, ETA {clock(step.eta(now))}" if total else ""
        if due and line:
            self.log(line)

    def note(self, message: str) -> None:
        """A one-line note (e.g. the builder's latest log line) on every running step."""
        with self._lock:
            for step in self.steps.values():
                if step.status == "running":
                    step.note = " ".join(message.split())[:200]

    def finish(self, name: str, note: str = "") -> None:
        self._move(name, "done", note)
        step = self.steps[name]
        self.log(f"build: {name} done in {clock(step.elapsed(time.monotonic()))}" + (f" ({note})" if note else ""))

    def fail(self, name: str, error: str) -> None:
        self._move(name, "failed", error)
        self.log(f"build: {name} FAILED: {error}")

    def skip(self, name: str, why: str) -> None:
        self._move(name, "skipped", why)
        self.log(f"build: {name} skipped: {why}")

    @property
    def finished(self) -> bool:
        """True when no step is waiting or running."""
        with self._lock:
            return all(step.status in ("done", "failed", "skipped") for step in self.steps.values())

    def snapshot(self) -> list[dict[str, Any]]:
        """Each step as JSON-ready fields, with ``elapsed_s`` and ``eta_s`` (None when unknown)."""
        now = time.monotonic()
        with self._lock:
            out = []
            for step in self.steps.values():
                fields = {k: v for k, v in asdict(step).items() if k not in ("started", "finished")}
                elapsed, eta = step.elapsed(now), step.eta(now)
                out.append({**fields, "elapsed_s": None if elapsed is None else round(elapsed, 1), "eta_s": None if eta is None else round(eta, 1)})
            return out

    def _move(self, name: str, status: str, note: str) -> None:
        now = time.monotonic()
        with self._lock:
            step = self.steps[name]
            step.status, step.note = status, note
            if status == "running":
                step.started = now
            else:
                step.finished = now
                if step.started is None:
                    step.started = now
                if status == "done" and step.total:
                    step.done = step.total
