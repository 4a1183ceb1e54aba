"""``onesearch demo --no-serve`` on the tiny shop: builds a codebook and a small model once, prints
example searches from both searchers, writes a bundle ``serve`` accepts; a second run reuses all."""

from __future__ import annotations

from onesearch.cli.demo import demo_codebook
from onesearch.deploy.bundle import Bundle


def test_demo_builds_once_prints_examples_and_leaves_a_servable_bundle(cli, tiny_shop, tmp_path):
    argv = ["demo", "--task", "generic", "--source", str(tiny_shop), "--out", str(tmp_path / "demo"), "--cache", str(tmp_path / "cache"),
            "--encoder", "minilm", "--no-serve", "--query", "red wool boots", "--query", "acme hat"]
    code, out, err = cli(argv)
    assert code == 0, err
    assert "demo: training a small generative model" in err and "demo: coding" in err
    assert out.count("generative") >= 2 and out.count("cascade") >= 2 and "red wool boots" in out
    (home,) = (tmp_path / "demo").iterdir()
    bundle = Bundle.read(home)
    assert bundle.model == str(home / "model") and (home / "model" / "tokenizer.json").is_file()
    code, out, err = cli(argv)
    assert code == 0 and "demo: training" not in err and "demo: coding" not in err and "acme hat" in out


def test_the_demo_codebook_scales_with_the_catalog():
    assert (demo_codebook(192).levels, demo_codebook(192).opq_subcodes) == ((16, 4, 4), 0)
    assert (demo_codebook(54_667).levels, demo_codebook(54_667).opq_subcodes) == ((256, 64, 32), 2)
    assert demo_codebook(3).levels == (4, 4, 4)
