"""``onesearch train`` (TOML recipe) -> ``onesearch search`` and ``onesearch eval --searcher generative``
on the tiny generic shop: the end-to-end slice CI trains."""

from __future__ import annotations

import json

from onesearch.training.checkpoint import load_decoder


def test_training_runs_the_curriculum_and_saves_a_complete_model(trained):
    _, _, model, summary = trained
    losses = summary["losses"]
    assert losses["align_6"] < losses["align_1"] and losses["personal_8"] < losses["personal_1"]
    decoder, manifest = load_decoder(model)
    assert decoder.config.code_sizes[:3] == (16, 4, 4) and decoder.config.views.short_term
    assert manifest["examples"]["align"] > 150 and summary["examples_per_second"] > 0
    held_out = json.loads((model / "held_out.json").read_text())
    assert len(held_out) == 10 and (model / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert not model.with_name("model.checkpoint").exists()


def test_a_second_run_reuses_the_frozen_encoder_outputs(trained, cli_module, tiny_shop_module):
    tmp, _, model, summary = trained
    again = tmp / "again"
    code, stdout, err = cli_module(["train", "--config", str(tmp / "recipe.toml"), "--source", str(tiny_shop_module), "--index", str(tmp / "sid"),
                                    "--out", str(again), "--set", "views.long_term=false", "--set", "train.align_epochs=1"])
    assert code == 0, err
    assert "reused" in err and len(list((tmp / "states").iterdir())) == 1
    decoder, manifest = load_decoder(again)
    assert decoder.config.views.long_term is False and manifest["recipe"]["train"]["align_epochs"] == 1


def test_generative_beats_random_and_returns_only_catalog_items(trained, cli_module):
    tmp, common, model, _ = trained
    out = tmp / "report"
    code, _, err = cli_module(["eval", *common, "--searcher", "random", "--searcher", "generative", "--searcher", "hybrid", "--searcher", f"twin={model}", "--model", str(model),
                               "--beam", "20", "--encoder", "minilm", "--cache", str(tmp / "cache"), "--out", str(out)])
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    generative, random_ = metrics["searchers"]["generative"]["metrics"], metrics["searchers"]["random"]["metrics"]
    assert generative["recall@10"] > 3 * random_["recall@10"] + 0.05
    assert metrics["searchers"]["twin"]["metrics"] == generative
    items = {f"i{n}" for n in range(192)}
    assert {line.split()[2] for line in (out / "run.trec").read_text().splitlines()} <= items


def test_a_scratch_encoder_model_learns_its_own_tokenizer_and_beats_random(trained, cli_module, tiny_shop_module):
    """The path for languages no shipped encoder covers: own BPE + own text encoder."""
    tmp, common, _, _ = trained
    model = tmp / "scratch"
    code, stdout, err = cli_module(["train", "--config", str(tmp / "recipe.toml"), "--source", str(tiny_shop_module), "--index", str(tmp / "sid"), "--out", str(model),
                                    "--set", 'encoder="scratch"', "--set", "vocab_size=300", "--set", "views.short_queries=0", "--set", "category_queries=true"])
    assert code == 0, err
    decoder, manifest = load_decoder(model)
    assert 0 < decoder.config.vocab_size <= 300 and decoder.config.memory_dim == 64 and (model / "tokenizer.json").is_file()
    assert manifest["encoder"] == "scratch" and "tokenizer" in err
    out = tmp / "scratch-report"
    code, _, err = cli_module(["eval", *common, "--searcher", "random", "--searcher", f"scratch={model}", "--beam", "20", "--encoder", "minilm", "--cache", str(tmp / "cache"), "--out", str(out)])
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())["searchers"]
    assert metrics["scratch"]["metrics"]["recall@10"] > 3 * metrics["random"]["metrics"]["recall@10"] + 0.05
    code, _, err = cli_module(["train", "--config", str(tmp / "recipe.toml"), "--source", str(tiny_shop_module), "--index", str(tmp / "sid"), "--out", str(tmp / "bad"), "--set", 'encoder="scratch"'])
    assert code == 2 and "short_queries" in err


def test_search_prints_ranked_real_items_and_reads_behaviour(trained, cli_module):
    _, common, model, _ = trained
    code, stdout, err = cli_module(["search", "red boots", "--model", str(model), "--k", "5", "--event", "order:i3", *common])
    assert code == 0, err
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5] and all(r["title"] for r in rows)
    code, _, err = cli_module(["search", "red boots", "--model", str(model), "--event", "bought:i3"])
    assert code == 2 and "--event" in err


def test_unknown_recipe_keys_and_views_are_one_line(tmp_path, cli_module, tiny_shop_module):
    (tmp_path / "bad.toml").write_text('task = "generic"\nindex = "x"\n[views]\nshort_trem = true\n')
    code, _, err = cli_module(["train", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "m")])
    assert code == 2 and "short_trem" in err and "bad.toml" in err
    code, _, err = cli_module(["train", "--task", "generic", "--index", "x", "--set", "views.nope=true", "--out", str(tmp_path / "m")])
    assert code == 2 and "nope" in err and not (tmp_path / "m").exists()
    code, _, err = cli_module(["train", "--task", "generic", "--index", "x", "--set", "no-equals-sign", "--out", str(tmp_path / "m")])
    assert code == 2 and "KEY=VALUE" in err



def test_category_queries_on_a_catalog_without_categories_is_one_line(trained, cli_module, tiny_shop_module, tmp_path):
    import csv
    import shutil

    tmp = trained[0]
    shop = tmp_path / "shop"
    shutil.copytree(tiny_shop_module, shop)
    with (tiny_shop_module / "items.csv").open() as source:
        rows = [{k: v for k, v in row.items() if k != "category"} for row in csv.DictReader(source)]
    with (shop / "items.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, _, err = cli_module(["train", "--config", str(tmp / "recipe.toml"), "--source", str(shop), "--index", str(tmp / "sid"),
                               "--set", "category_queries=true", "--out", str(tmp_path / "model")])
    assert code == 2 and "no item of this catalog has a category" in err
    assert not (tmp_path / "model").exists()
