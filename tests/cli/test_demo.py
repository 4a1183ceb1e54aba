"""``onesearch demo --no-serve`` on the tiny shop: trains the task's default (anchored, planned)
model once — the same one ``eval --searcher generative`` scores —, prints example searches from both
searchers, writes a bundle ``serve`` accepts; a second run reuses all."""

from __future__ import annotations

from onesearch.artifacts import read_manifest
from onesearch.deploy.bundle import Bundle


def test_demo_builds_once_prints_examples_and_leaves_a_servable_bundle(cli, tiny_shop, tmp_path):
    argv = ["demo", "--task", "generic", "--source", str(tiny_shop), "--out", str(tmp_path / "demo"), "--cache", str(tmp_path / "cache"),
            "--encoder", "minilm", "--no-serve", "--query", "red wool boots", "--query", "acme hat"]
    code, out, err = cli(argv)
    assert code == 0, err
    assert "planning" in err and "coding 192 items" in err
    assert out.count("generative") >= 2 and out.count("cascade") >= 2 and "red wool boots" in out
    (home,) = (tmp_path / "demo").iterdir()
    bundle = Bundle.read(home)
    assert read_manifest(bundle.model)["kind"] == "anchored-generative" and str(tmp_path / "cache") in bundle.model
    code, out, err = cli(argv)
    assert code == 0 and "planning" not in err and "coding 192 items" not in err and "acme hat" in out
