"""``Bundle``: what one service serves, read from a TOML file (or a directory with ``bundle.toml``).

    task = "homedepot"               # data set (``onesearch data list``); source = DIR for generic
    model = "runs/models/..."        # generative model folder (optional: then no generative/hybrid)
    model_encoder = "runs/cache/..." # the model's frozen encoder, when not where its manifest says
    encoder = "dual"                 # the cascade's dense encoder (the cascade is built or reused)
    cache = "runs/cache"
    beam = 0                         # the generative beam (0: the one the model's training picked on valid)
    spelling = true                  # query spelling correction in front of every searcher
    events = "runs/serve/events.jsonl"  # search and interaction log ("" = none)
    events_rotate_mb = 64               # the log moves to events.jsonl.N past this size (N counts up; none is deleted)
    state = "runs/serve/state.json"     # catalog changes and reloads, kept across restarts ("" = none)

Contract: relative paths are read from the current directory; unknown keys, a missing ``task``
or a value of the wrong type are refused with one ``DataError`` naming the file. ``write(path)``
stores a bundle that ``read`` gives back (unset logs as ""), written to a temp file, then renamed.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from onesearch.errors import DataError

__all__ = ["Bundle"]


@dataclass(frozen=True)
class Bundle:
    """What one service serves (see module docstring)."""

    task: str
    source: str | None = None
    model: str | None = None
    model_encoder: str | None = None
    encoder: str = "dual"
    cache: str = "runs/cache"
    beam: int = 0
    spelling: bool = True
    events: str | None = "runs/serve/events.jsonl"
    events_rotate_mb: int = 64
    state: str | None = "runs/serve/state.json"

    @classmethod
    def read(cls, path: Path) -> Bundle:
        """The bundle in ``path`` (a TOML file or a directory with ``bundle.toml``)."""
        file = path / "bundle.toml" if path.is_dir() else path
        try:
            raw = tomllib.loads(file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise DataError(f"cannot read bundle: {error}", path=file) from None
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(names))
        if unknown or "task" not in raw:
            raise DataError(f"a bundle needs task and knows {sorted(names)}; unknown: {unknown}", path=file)
        wrong = [key for key, value in raw.items() if not _typed(key, value)]
        if wrong:
            raise DataError(f"wrong type for {wrong}: beam and events_rotate_mb are integers, spelling true or false, the rest are strings", path=file)
        return cls(**{key: value or None if key in ("events", "state") else value for key, value in raw.items()})

    def write(self, path: Path) -> None:
        """Store this bundle as TOML at ``path`` (atomically)."""
        lines = [f"{key} = {json.dumps(value) if isinstance(value, int) else json.dumps(value or '', ensure_ascii=False)}"
                 for key, value in asdict(self).items() if value is not None or key in ("events", "state")]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def _typed(key: str, value: object) -> bool:
    """True when a bundle value has its key's type (a bool is no integer here)."""
    if key == "spelling":
        return isinstance(value, bool)
    return isinstance(value, int if key in ("beam", "events_rotate_mb") else str) and not isinstance(value, bool)
