"""``onesearch demo --no-serve`` on the tiny shop: the live build runs every step in order (the
task's default, anchored model — the one ``eval --searcher generative`` scores — included), prints
example searches from both searchers, writes a bundle ``serve`` accepts; a second run reuses all."""

from __future__ import annotations

from pathlib import Path

from onesearch.artifacts import read_manifest
from onesearch.cli.live import STEPS
from onesearch.deploy.bundle import Bundle


def test_demo_builds_once_prints_examples_and_leaves_a_servable_bundle(cli, tiny_shop, tmp_path):
    argv = ["demo", "--task", "generic", "--source", str(tiny_shop), "--out", str(tmp_path / "demo"), "--cache", str(tmp_path / "cache"),
            "--encoder", "minilm", "--no-serve", "--query", "red wool boots", "--query", "acme hat"]
    code, out, err = cli(argv)
    assert code == 0, err
    for step in STEPS:
        assert f"build: {step} done" in err or f"build: {step} skipped" in err, step
    assert "build: dense encoder skipped: using the shipped encoder minilm" in err
    assert out.count("generative") >= 2 and out.count("cascade") >= 2 and "red wool boots" in out
    (home,) = (tmp_path / "demo").iterdir()
    bundle = Bundle.read(home)
    weights = Path(bundle.model) / "model.safetensors"
    assert read_manifest(bundle.model)["kind"] == "anchored-generative" and str(tmp_path / "cache") in bundle.model
    trained = weights.stat().st_mtime_ns
    code, out, err = cli(argv)
    assert code == 0 and "acme hat" in out and weights.stat().st_mtime_ns == trained
