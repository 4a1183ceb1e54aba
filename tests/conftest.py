"""Shared fixtures: the shared data root and each real data set loaded once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset

DATA_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@cache
def _load(name: str) -> Dataset:
    return registry.load(name, DATA_ROOT)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (CI has it beside the clone)."""
    assert DATA_ROOT.is_dir(), f"shared data not found at {DATA_ROOT}"
    return DATA_ROOT


@pytest.fixture(scope="session")
def load_shared(shared_data: Path):
    """``load_shared(name)`` -> that data set, read once per session (treat as read-only)."""
    return _load
