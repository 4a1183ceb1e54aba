"""The soak in CI: 60 s of fixed search load with a catalog change every 10 s on a served tiny
shop; no server error, memory growth bounded. The full run (10 min) is ``benchmarks/bench_soak.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_soak import run_soak  # noqa: E402


@pytest.mark.slow
def test_a_minute_of_load_and_changes_gives_no_5xx(tiny_shop_module, anchored_trained, shared_data, tmp_path):
    tmp, _, model, _ = anchored_trained
    bundle = tmp_path / "bundle.toml"
    bundle.write_text(f'task = "generic"\nsource = "{tiny_shop_module}"\nmodel = "{model}"\nencoder = "minilm"\ncache = "{tmp / "cache"}"\n'
                      f'beam = 20\nevents = "{tmp_path / "events.jsonl"}"\nstate = "{tmp_path / "state.json"}"\n')
    result = run_soak(bundle, shared_data, seconds=60, clients=2, rate=10, change_every=10, warmup=25, log=lambda _: None)  # warm: after two changes
    assert result["server_errors"] == 0 and result["answers"].get("200", 0) > 500, result["answers"]
    assert result["changes"] >= 3 and result["rss_growth"] <= 0.10, result
