"""``onesearch train`` then ``onesearch eval --searcher generative`` on the tiny generic shop."""

from __future__ import annotations

import json

from onesearch.training.checkpoint import load_decoder


def test_train_then_evaluate_the_generative_searcher(tiny_shop, tmp_path, cli):
    common = ["--task", "generic", "--source", str(tiny_shop)]
    index = tmp_path / "sid"
    code, _, err = cli(["index", "build", *common, "--out", str(index), "--cache", str(tmp_path / "cache"), "--encoder", "minilm", "--levels", "16,4,4", "--opq", "0"])
    assert code == 0, err
    model = tmp_path / "model"
    code, stdout, err = cli(["train", *common, "--index", str(index), "--out", str(model), "--epochs", "2", "--batch-size", "64", "--d-model", "32", "--layers", "1"])
    assert code == 0, err
    losses = json.loads(stdout)
    assert losses["epoch_2"] < losses["epoch_1"]
    decoder, manifest = load_decoder(model)
    assert manifest["pairs"] > 192 and decoder.config.code_sizes[:3] == (16, 4, 4)
    out = tmp_path / "report"
    code, stdout, err = cli(["eval", *common, "--searcher", "bm25", "--searcher", "generative", "--searcher", "hybrid", "--model", str(model), "--beam", "20",
                             "--encoder", "minilm", "--cache", str(tmp_path / "cache"), "--limit", "10", "--out", str(out)])
    assert code == 0, err
    assert set(json.loads((out / "metrics.json").read_text())["searchers"]) == {"bm25", "generative", "hybrid"}


def test_generative_without_a_model_is_one_line(tiny_shop, tmp_path, cli):
    code, _, err = cli(["eval", "--task", "generic", "--source", str(tiny_shop), "--searcher", "generative", "--out", str(tmp_path / "r")])
    assert code == 2 and "need --model" in err and not (tmp_path / "r").exists()
