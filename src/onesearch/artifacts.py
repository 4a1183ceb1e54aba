"""Artifacts are plain directories, written whole or not at all.

Contract: ``atomic_directory(out)`` yields a temporary sibling directory; only when the body
finishes without error is it renamed to ``out`` (an existing ``out`` is replaced only then, so
stored data is never lost on failure). Every artifact carries ``manifest.json``: its kind, the
config that made it, library versions and the hashes of its inputs. No torch, no stage imports.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from onesearch.errors import DataError

__all__ = ["MANIFEST", "atomic_directory", "file_stamp", "write_text_atomic", "file_sha256", "read_manifest", "write_manifest"]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@contextmanager
def atomic_directory(out: str | Path) -> Iterator[Path]:
    """Yield a fresh temp directory next to ``out``; rename it to ``out`` on success only."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        _replace_directory(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file renamed into place (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _replace_directory(new: Path, out: Path) -> None:
    """Swap ``new`` into ``out``; the old ``out`` is removed only after the swap succeeded."""
    if not out.exists():
        os.rename(new, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def file_stamp(path: Path | None) -> tuple[int, int, int] | None:
    """Identity of a file as written last (inode, size, mtime): it changes when the file is
    rewritten or replaced; None when there is no file."""
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("onesearch", "pyarrow", "numpy", "pandas"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def write_manifest(
    directory: Path, kind: str, config: Mapping[str, Any], inputs: Mapping[str, str | Path], **extra: Any
) -> dict[str, Any]:
    """Write ``manifest.json`` into ``directory``: kind, config, versions, input hashes, extras."""
    manifest = {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": dict(config),
        "versions": _versions(),
        "inputs": {name: {"path": str(p), "sha256": file_sha256(p)} for name, p in sorted(inputs.items())},
        **extra,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load and check a manifest; ``DataError`` if missing, unreadable, of another kind or newer format."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise DataError(f"not an artifact directory (no {MANIFEST})", path=directory)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"unreadable manifest: {error}", path=path) from None
    if kind is not None and manifest.get("kind") != kind:
        raise DataError(f"artifact kind is {manifest.get('kind')!r}, expected {kind!r}", path=path)
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(f"format_version {manifest['format_version']} is newer than this onesearch", path=path)
    return manifest
