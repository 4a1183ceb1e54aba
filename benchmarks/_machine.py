"""The machine line every benchmark prints (benchmarks are scripts: their folder is on sys.path)."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    """Processor, core count and Python version."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
