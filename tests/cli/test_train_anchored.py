"""``onesearch train --task`` (no recipe) builds what it lacks and trains the anchored, planned model;
``onesearch eval --searcher generative`` with no ``--model`` trains or reuses the task's default."""

from __future__ import annotations

import json

import pytest
import torch

from onesearch.artifacts import read_manifest
from onesearch.generative.folder import PlannedModel
from onesearch.reward.build import build_reward


@pytest.fixture(scope="module")
def anchored(anchored_trained):
    tmp, common, _, summary = anchored_trained
    return tmp, common, summary


def test_train_builds_a_catalog_sized_codebook_and_keeps_the_best_valid_epoch(anchored):
    tmp, _, summary = anchored
    model = tmp / "cache" / summary["model"].split("/cache/")[1]
    manifest = read_manifest(model, kind="anchored-generative")
    codebooks = list((model.parent).glob("codebook-*"))
    assert len(codebooks) == 1 and read_manifest(codebooks[0])["config"]["levels"] == [8, 2]
    history = summary["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert max(h["valid_ndcg@10"] for h in history[1:]) > history[0]["valid_ndcg@10"]
    assert manifest["config"]["recipe"]["beam"] == 40 and manifest["encoder"] == "minilm"
    assert "beam" not in manifest and PlannedModel(model).beam == 40  # 192 items are scored exhaustively: no beam to pick


def test_eval_reuses_the_default_model_and_beats_random_with_catalog_items_only(anchored, cli_module):
    tmp, common, summary = anchored
    out = tmp / "report"
    code, _, err = cli_module(["eval", *common, "--searcher", "random", "--searcher", "generative", "--encoder", "minilm",
                               "--set", "epochs=2", "--set", "beam=40", "--out", str(out)])
    assert code == 0, err
    assert "planning" not in err  # reused, not retrained
    metrics = json.loads((out / "metrics.json").read_text())["searchers"]
    assert metrics["generative"]["metrics"]["ndcg@10"] > 3 * metrics["random"]["metrics"]["ndcg@10"] + 0.1
    assert {line.split()[2] for line in (out / "run.trec").read_text().splitlines()} <= {f"i{n}" for n in range(192)}


def test_an_unknown_recipe_key_is_one_line(anchored, cli_module):
    _, common, _ = anchored
    code, _, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epoch=2"])
    assert code == 2 and "unknown setting(s) epoch" in err and "Traceback" not in err


def test_distillation_labels_pseudo_queries_with_the_cascade_and_learns_from_them(anchored, cli_module, tmp_path):
    tmp, common, summary = anchored
    out = tmp_path / "distilled"
    code, stdout, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=1", "--set", "beam=40", "--set", "distill=30", "--out", str(out)])
    assert code == 0, err
    assert "labelling 30 pseudo-queries" in err
    distilled = json.loads(stdout.strip().splitlines()[-1])
    assert distilled["train_examples"] > summary["train_examples"]
    assert read_manifest(out, kind="anchored-generative")["config"]["recipe"]["distill"] == 30


def test_a_beamed_model_serves_the_beam_training_picked_on_valid(anchored, cli_module, tmp_path, monkeypatch):
    from onesearch.decoding import planned

    tmp, common, _ = anchored
    monkeypatch.setattr(planned, "EXHAUSTIVE_ITEMS", 10)  # the tiny catalog walks the beam, as a large one would
    out = tmp_path / "beamed"
    code, _, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=1", "--set", "beam=40", "--out", str(out)])
    assert code == 0, err
    logged = " ".join(err.split())  # the console may wrap the line
    assert "valid by beam, deep list: 40:" in logged and "; 10:" in logged and "valid by beam, page: 40:" in logged and "; 5:" in logged
    manifest = read_manifest(out, kind="anchored-generative")
    picked, page = manifest["beam"], manifest["page_beam"]
    assert picked in (10, 20, 40) and page in (5, 10, 20, 40) and f"serving beam {picked}, page beam {page}" in logged
    model = PlannedModel(out)
    assert (model.beam, model.page_beam) == (picked, page)


def test_two_data_parallel_workers_train_a_model_that_serves(anchored, cli_module, tmp_path):
    tmp, common, _ = anchored
    out = tmp_path / "ddp"
    code, stdout, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=1", "--set", "beam=40", "--workers", "2", "--out", str(out)])
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    manifest = read_manifest(out, kind="anchored-generative")
    assert summary["workers"] == manifest["workers"] == 2 and [h["epoch"] for h in manifest["history"]] == [0, 1]
    assert not (tmp_path / "ddp.checkpoint.pt").exists()
    code, _, err = cli_module(["eval", *common, "--searcher", f"ddp={out}", "--encoder", "minilm", "--limit", "20", "--out", str(tmp_path / "report")])
    assert code == 0, err


def test_an_interrupted_run_resumes_from_its_last_epoch_to_the_same_weights(anchored, cli_module, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from onesearch.training import anchored as training

    tmp, common, _ = anchored
    options = ["train", *common, "--encoder", "minilm", "--set", "epochs=2", "--set", "beam=40"]

    def scores(*values):  # valid scores that rise every epoch, so the last epoch's weights are saved
        queue = list(values)

        def score(*_):
            value = queue.pop(0)
            if value is None:
                raise RuntimeError("interrupted")
            return value
        return score

    monkeypatch.setattr(training, "_valid_ndcg", scores(0.1, 0.2, 0.3))
    assert cli_module([*options, "--out", str(tmp_path / "whole")])[0] == 0
    monkeypatch.setattr(training, "_valid_ndcg", scores(0.1, 0.2, None))  # stop during epoch 2's scoring
    with pytest.raises(RuntimeError, match="interrupted"):
        cli_module([*options, "--out", str(tmp_path / "cut")])
    assert (tmp_path / "cut.checkpoint.pt").is_file() and not (tmp_path / "cut").exists()
    monkeypatch.setattr(training, "_valid_ndcg", scores(0.3))
    code, _, err = cli_module([*options, "--out", str(tmp_path / "cut"), "--resume"])
    assert code == 0 and "resuming after epoch 1" in err, err
    whole, resumed = load_file(str(tmp_path / "whole" / "model.safetensors")), load_file(str(tmp_path / "cut" / "model.safetensors"))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    assert read_manifest(tmp_path / "cut")["history"] == read_manifest(tmp_path / "whole")["history"]


def test_a_model_with_a_recipe_field_this_version_lacks_is_one_clear_error(anchored, tmp_path):
    import shutil

    from onesearch.errors import DataError
    from onesearch.generative.folder import PlannedModel

    tmp, _, summary = anchored
    model = tmp_path / "future"
    shutil.copytree(tmp / "cache" / summary["model"].split("/cache/")[1], model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["config"]["recipe"]["future_switch"] = 0.99
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="recipe field\\(s\\) future_switch that this version lacks"):
        PlannedModel(model)


@pytest.mark.parametrize("loss", ["listnet", "dpo"])
def test_the_preference_stage_starts_from_the_cached_supervised_model_and_learns_reward_lists(anchored, cli_module, tmp_path, monkeypatch, loss):
    from onesearch.cli import train
    from tests.reward.test_reward import SMALL

    monkeypatch.setattr(train, "build_reward", lambda *args, log: build_reward(*args, SMALL, log=log))
    tmp, common, summary = anchored
    out = tmp_path / loss
    code, stdout, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=2", "--set", "beam=40", "--set", "preference=40",
                                    "--set", f"preference_loss=\"{loss}\"", "--set", "preference_epochs=1", "--out", str(out)])
    assert code == 0, err
    assert "training its supervised model first" not in err and f"preference stage ({loss})" in err
    trained = json.loads(stdout.strip().splitlines()[-1])
    assert trained["preference_lists"] > 20
    assert [h["epoch"] for h in trained["history"]] == [0, 1]
    assert trained["history"][0]["valid_ndcg@10"] == pytest.approx(max(h["valid_ndcg@10"] for h in summary["history"]), abs=0.02)  # the supervised model
    assert read_manifest(out, kind="anchored-generative")["config"]["recipe"]["preference_loss"] == loss


def test_an_unknown_preference_loss_is_one_line(anchored, cli_module, tmp_path):
    _, common, _ = anchored
    code, _, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=2", "--set", "beam=40", "--set", "preference=10",
                               "--set", "preference_loss=\"ppo\"", "--out", str(tmp_path / "m")])
    assert code == 2 and "preference_loss='ppo'" in err and "Traceback" not in err


def test_the_default_model_encodes_queries_with_a_static_encoder_distilled_from_its_item_encoder(anchored):
    from onesearch.embedding.static import StaticEncoder
    from onesearch.generative.folder import PlannedModel

    tmp, _, summary = anchored
    model = tmp / "cache" / summary["model"].split("/cache/")[1]
    manifest = read_manifest(model, kind="anchored-generative")
    static = read_manifest(manifest["query_encoder"], kind="static-query-encoder")
    assert manifest["config"]["recipe"]["query_encoder"] == "static" and static["teacher"] == manifest["encoder"] == "minilm"
    served = PlannedModel(model)
    assert isinstance(served.query_encoder, StaticEncoder) and served.query_encoder is not served.text_encoder
    override = PlannedModel(model, "minilm")  # --model-encoder: one encoder for items and queries
    assert override.query_encoder is override.text_encoder


def test_a_next_item_task_starts_from_the_next_item_settings_which_overrides_change(load_shared):
    from dataclasses import replace

    from onesearch.cli.train import task_recipe
    from onesearch.generative.recipe import NEXT_ITEM, AnchoredRecipe

    amazon, homedepot = load_shared("amazon-industrial"), load_shared("homedepot")
    assert task_recipe([], amazon) == AnchoredRecipe.from_settings([*NEXT_ITEM, "query_encoder='full'"])
    assert task_recipe([], amazon).ema > 0 and task_recipe([], amazon).transition_window > 1
    assert task_recipe(["ema=0", "epochs=2"], amazon).ema == 0 and task_recipe(["ema=0", "epochs=2"], amazon).epochs == 2
    assert task_recipe([], homedepot) == replace(AnchoredRecipe(), co_buy=False)  # a task with train queries keeps the plain defaults
    assert task_recipe(["co_buy=true"], amazon).co_buy and not task_recipe(["co_buy=true"], homedepot).co_buy  # no user named, no co-buyers


def test_train_on_a_task_without_queries_uses_the_shipped_encoder(cli, monkeypatch, shared_data, tmp_path):
    import onesearch.cli.train as train

    seen = {}
    monkeypatch.setattr(train, "ensure_codebook", lambda dataset, directory, encoder, log: seen.setdefault("codebook", encoder) and tmp_path)
    monkeypatch.setattr(train, "train_planned", lambda *args, **kwargs: seen.update(model=args[5], recipe=args[3]) or {})
    code, out, err = cli(["train", "--task", "amazon-industrial", "--data", str(shared_data), "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "m")])
    assert code == 0, err
    assert seen["codebook"] == seen["model"] == "minilm" and "using the shipped minilm encoder" in " ".join((out + err).split())
    assert seen["recipe"].recency_decay == 0.5  # NEXT_ITEM
