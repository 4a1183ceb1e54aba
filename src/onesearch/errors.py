"""The one user-facing error type for bad input.

Contract: stdlib only. Anything a user can get wrong (a file, a row, a name) raises ``DataError``;
the CLI prints ``str(error)`` as one line and exits with code 2. No other exception type is
meant to reach a user.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataError"]


class DataError(Exception):
    """Bad input, located: ``<file>: row <n>: <problem>`` (file and row when known)."""

    def __init__(self, problem: str, path: str | Path | None = None, row: int | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.row = row
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if self.row is not None:
            parts.append(f"row {self.row}")
        parts.append(self.problem)
        return ": ".join(parts)
