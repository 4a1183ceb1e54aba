"""``onesearch serve``'s wiring: a bundle file -> engine (cascade, bm25, the trained generative
model, hybrid) -> the API answers with real catalog items; bad bundles are one line."""

from __future__ import annotations

from fastapi.testclient import TestClient

from onesearch.cli.serve import Bundle, build_engine
from onesearch.serving.app import create_app
from onesearch.serving.events import EventLog


def test_a_bundle_serves_every_searcher_over_the_trained_model(trained, tiny_shop_module, tmp_path):
    tmp, _, model, _ = trained
    bundle = tmp_path / "bundle.toml"
    bundle.write_text(f'task = "generic"\nsource = "{tiny_shop_module}"\nmodel = "{model}"\nencoder = "minilm"\ncache = "{tmp / "cache"}"\nbeam = 20\n')
    engine = build_engine(Bundle.read(tmp_path))
    assert sorted(engine.searchers) == ["bm25", "cascade", "generative", "hybrid"]
    with TestClient(create_app(engine, EventLog(tmp_path / "events.jsonl"))) as client:
        for searcher in ("generative", "hybrid", "cascade", "bm25"):
            body = client.post("/search", json={"query": "red boots", "k": 5, "searcher": searcher, "user_id": "u1"}).json()
            assert len(body["items"]) == 5 and all(hit["item_id"] in engine.items and hit["title"] for hit in body["items"]), searcher
            assert body["user"] == "known"
        generated = client.post("/search", json={"query": "red boots", "k": 5}).json()["items"]
        assert all(hit["code"] for hit in generated)
        assert client.get("/users/u1").json()["history"]
        assert len(client.post("/recommend", json={"user_id": "u1", "k": 4}).json()["items"]) == 4


def test_bad_bundles_are_one_line(tmp_path, cli_module):
    (tmp_path / "b.toml").write_text('task = "generic"\nmodle = "x"\n')
    code, _, err = cli_module(["serve", str(tmp_path / "b.toml")])
    assert code == 2 and "modle" in err and "b.toml" in err
    code, _, err = cli_module(["serve", str(tmp_path / "missing.toml")])
    assert code == 2 and "cannot read bundle" in err
