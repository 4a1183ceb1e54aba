"""Ingest keys: who may post events, and how fast.

Contract: ``IngestKeys`` holds named keys (``name -> secret``; each secret at least 16
characters, names and secrets unique) and one token bucket per name (``rate`` events per second,
``burst`` at once). ``identify(token)`` returns the name of the key (compared in constant time
against every key) or None; ``take(name)`` spends one token and returns None, or the seconds to
wait when the bucket is empty. ``parse(text, source)`` reads ``name key`` lines (blank lines and
``#`` comments skipped; ``name=key,name=key`` works too, for an environment variable) and raises
one ``DataError`` naming the source and line. Secrets are never logged or echoed.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from dataclasses import dataclass, field

from onesearch.errors import DataError

__all__ = ["IngestKeys"]

NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass
class IngestKeys:
    """Named ingest keys with a per-key rate limit (module docstring)."""

    keys: dict[str, str]
    rate: float = 20.0
    burst: int = 100
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, text: str, source: str, rate: float = 20.0, burst: int = 100) -> IngestKeys:
        """Keys from ``name key`` lines or ``name=key,...`` (module docstring)."""
        entries = [part for line in text.splitlines() for part in line.split(",")] if "=" in text and "\n" not in text.strip() else text.splitlines()
        keys: dict[str, str] = {}
        for row, entry in enumerate(entries, start=1):
            entry = entry.split("#", 1)[0].strip()
            if not entry:
                continue
            name, _, secret = entry.replace("=", " ", 1).partition(" ")
            secret = secret.strip()
            if not NAME.fullmatch(name) or len(secret) < 16:
                raise DataError("an ingest key is 'NAME KEY': a name of letters, digits, _ . - and a key of at least 16 characters", path=source, row=row)
            if name in keys or secret in keys.values():
                raise DataError(f"ingest key {name!r} repeats a name or a key", path=source, row=row)
            keys[name] = secret
        if not keys:
            raise DataError("no ingest keys", path=source)
        return cls(keys, rate, burst)

    def identify(self, token: str) -> str | None:
        """The name of the key ``token`` is, or None (every key is compared, in constant time)."""
        found = None
        for name, secret in self.keys.items():
            if hmac.compare_digest(token.encode(), secret.encode()):
                found = name
        return found

    def take(self, name: str) -> float | None:
        """Spend one event of ``name``'s bucket: None, or the seconds until one is back."""
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[name] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[name] = (tokens - 1.0, now)
            return None
