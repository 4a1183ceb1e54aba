"""Crash trials in CI: three kill -9s of a served tiny shop during changes and events; no
acknowledged write is lost, nothing is half-applied, every restart succeeds. The full run (50
trials) is ``benchmarks/bench_crash.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_crash import run_trials  # noqa: E402


@pytest.mark.slow
def test_kill_9_during_changes_loses_no_acknowledged_write(served_tiny_bundle, shared_data):
    result = run_trials(served_tiny_bundle, shared_data, trials=3, seed=1, log=lambda _: None)
    assert result["kills"] == 3 and result["failed_starts"] == 0
    assert result["lost_or_half_applied"] == 0, result["problems"]
    assert result["acknowledged_upserts"] + result["acknowledged_deletes"] > 0 and result["acknowledged_events"] > 0
