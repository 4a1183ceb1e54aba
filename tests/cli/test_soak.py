"""The soak in CI: 60 s of fixed search load with a catalog change every 10 s on a served tiny
shop; no server error, memory growth bounded. The full run (10 min) is ``benchmarks/bench_soak.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_soak import run_soak  # noqa: E402


@pytest.mark.slow
def test_a_minute_of_load_and_changes_gives_no_5xx(served_tiny_bundle, shared_data):
    result = run_soak(served_tiny_bundle, shared_data, seconds=60, clients=2, rate=10, change_every=10, warmup=25, log=lambda _: None)
    assert result["server_errors"] == 0 and result["answers"].get("200", 0) > 500, result["answers"]
    assert result["changes"] >= 3 and result["rss_growth"] <= 0.10, result
