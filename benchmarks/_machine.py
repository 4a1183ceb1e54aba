"""The machine line every benchmark prints, and the result file some write (benchmarks are
scripts: their folder is on sys.path)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> str:
    """Processor, core count and Python version."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_result(result: dict[str, Any], out: Path | None) -> None:
    """Store ``result`` as JSON at ``out`` (when given) and print it as the last line."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))
