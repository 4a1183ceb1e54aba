"""The live build behind ``onesearch demo``: searchers are published in build order (bm25 first,
the generative model last, with the admin); a failing step is one line on the board while what
was published keeps serving; a shop with a catalog and no logs is served too (the walkthrough)."""

from __future__ import annotations

import shutil

import pytest

from onesearch.catalog import registry
from onesearch.cli import live as live_module
from onesearch.cli.live import STEPS, LiveBuild
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.types import SearchRequest, UserContext


def _build(source, cache, encoder="minilm") -> LiveBuild:
    dataset = registry.load("generic", source, source=source)
    bundle = Bundle(task="generic", source=str(source), encoder=encoder, cache=str(cache), events=None, state=None,
                    model=str(cache / "model-placeholder"))
    return LiveBuild(dataset, bundle, source, log=lambda _: None)


def _run(build: LiveBuild):
    published = []
    deployment = build.run(lambda engine, admin: published.append((sorted(engine.searchers), admin)))
    return deployment, published


def test_searchers_are_published_in_build_order_and_the_admin_comes_last(tiny_shop, tmp_path, monkeypatch):
    build = _build(tiny_shop, tmp_path / "cache")
    monkeypatch.setattr(build, "bundle", Bundle(**{**build.bundle.__dict__, "model": str(_default_model(build))}))
    deployment, published = _run(build)
    assert deployment is not None
    assert [names for names, _ in published] == [["bm25"], ["bm25", "dense"], ["bm25", "cascade", "dense"], ["bm25", "cascade", "generative", "hybrid"]]
    assert [admin is None for _, admin in published] == [True, True, True, False]
    states = {step["name"]: step["status"] for step in build.board.snapshot()}
    assert states == {**{name: "done" for name in STEPS}, "dense encoder": "skipped"} and build.board.finished
    hits = deployment.engine.search("generative", [SearchRequest("red wool boots", UserContext(None))], 5)[0]
    assert len(hits) == 5


def test_a_failed_step_is_one_line_and_what_was_published_keeps_serving(tiny_shop, tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(live_module, "ensure_codebook", broken)
    build = _build(tiny_shop, tmp_path / "cache")
    deployment, published = _run(build)
    assert deployment is None and published[-1][0] == ["bm25", "cascade", "dense"]
    states = {step["name"]: (step["status"], step["note"]) for step in build.board.snapshot()}
    assert states["codebook"] == ("failed", "OSError: disk full")
    assert states["generative model"] == ("skipped", "needs codebook") and states["service"][0] == "skipped"


def test_a_catalog_without_logs_is_served_with_a_model_trained_on_pseudo_queries(tiny_shop, tmp_path, cli):
    shop = tmp_path / "shop"
    shop.mkdir()
    shutil.copy(tiny_shop / "items.csv", shop / "items.csv")  # the catalog alone: no users, no interactions
    argv = ["demo", "--task", "generic", "--source", str(shop), "--out", str(tmp_path / "demo"), "--cache", str(tmp_path / "cache"),
            "--no-serve", "--query", "red wool boots"]
    code, out, err = cli(argv)
    assert code == 0, err
    assert "no query logs yet" in err and "using the shipped encoder minilm" in err
    assert "build: cascade rankers skipped: no logs yet" in err and "build: generative model done" in err
    generative = out.split("generative")[1].split("cascade")[0]
    assert "red wool boots" in generative  # the top titles of the model trained on pseudo-queries


def _default_model(build: LiveBuild):
    from onesearch.cli.train import default_model
    from onesearch.generative.recipe import AnchoredRecipe

    return default_model(build.directory.parent, "generic", build.key, AnchoredRecipe(), "minilm")


@pytest.mark.parametrize("bad", ["items.csv"])
def test_a_bad_file_stops_with_one_located_error_before_anything_is_built(tmp_path, cli, bad):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / bad).write_text("item_id,title\ni1,red boots\ni1,blue boots\n")
    code, _, err = cli(["demo", "--task", "generic", "--source", str(shop), "--cache", str(tmp_path / "cache"), "--no-serve"])
    assert code == 2 and "items.csv" in err and "Traceback" not in err and "build:" not in err
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_the_flipkart_walkthrough_serves_a_catalog_with_working_filters(shared_data, tmp_path, cli):
    """The README's walkthrough: the shared Flipkart catalog (1,002 items, brands, prices,
    categories, no logs) written as a generic shop, then demoed; filters hold in every searcher."""
    shop = tmp_path / "flipkart"
    code, out, err = cli(["data", "export", "flipkart", "--out", str(shop), "--data", str(shared_data)])
    assert code == 0 and "items.csv 1,002 rows" in " ".join(out.split()), err
    code, out, err = cli(["demo", "--task", "generic", "--source", str(shop), "--out", str(tmp_path / "demo"), "--cache", str(tmp_path / "cache"),
                          "--no-serve", "--query", "running shoes"])
    assert code == 0, err
    (home,) = (tmp_path / "demo").iterdir()
    deployment = Deployment.open(Bundle.read(home), shared_data, log=lambda _: None)
    engine = deployment.engine
    brand = max((item.brand for item in engine.items.values() if item.brand), key=lambda b: sum(i.brand == b for i in engine.items.values()))
    for name in ("generative", "cascade", "bm25"):  # the generative trie holds only allowed items; the others drop the rest
        hits = engine.search(name, [SearchRequest("shoes", UserContext(None))], 10, (None, brand, None, 2000.0, None))[0]
        assert all(engine.items[h.item_id].brand == brand and engine.items[h.item_id].price <= 2000.0 for h in hits), name
        assert name != "generative" or len(hits) == min(10, sum(i.brand == brand and (i.price or 1e9) <= 2000.0 for i in engine.items.values()))
    generative = engine.search("generative", [SearchRequest("running shoes", UserContext(None))], 5)[0]
    assert sum("shoe" in engine.items[h.item_id].title.lower() for h in generative) >= 3
