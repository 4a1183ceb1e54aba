"""A live bundle: every searcher over the trained model; items upserted and deleted take effect at
once in every index and survive a restart; a broken model is refused while the old one serves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.errors import DataError
from onesearch.generative.folder import PlannedModel
from onesearch.serving.app import create_app
from onesearch.types import SearchRequest, UserContext

SEARCHERS = ("generative", "hybrid", "cascade", "bm25")
NEW = {"item_id": "new-1", "title": "orbit violet silk kimono", "brand": "orbit", "category": ["apparel", "kimono"], "price": 80.0}


def _found(engine, name, query, k=20, filters=None):
    return [hit.item_id for hit in engine.search(name, [SearchRequest(query, UserContext(None))], k, filters)[0]]


def test_a_bundle_serves_every_searcher_over_the_trained_model(open_deployment):
    deployment = open_deployment()
    engine = deployment.engine
    assert sorted(engine.searchers) == sorted(SEARCHERS)
    with TestClient(create_app(engine)) as client:
        for searcher in SEARCHERS:
            body = client.post("/search", json={"query": "red boots", "k": 5, "searcher": searcher, "user_id": "u1"}).json()
            assert len(body["items"]) == 5 and all(hit["item_id"] in engine.items and hit["title"] for hit in body["items"]), searcher
            assert body["user"] == "known"
        assert all(hit["code"] for hit in client.post("/search", json={"query": "red boots", "k": 5}).json()["items"])
        assert client.get("/users/u1").json()["history"]
        assert len(client.post("/recommend", json={"user_id": "u1", "k": 4}).json()["items"]) == 4


def test_a_bundle_without_a_beam_serves_the_beam_training_picked(bundle, shared_data, served):
    text = bundle.read_text().replace("beam = 20\n", "")
    bundle.write_text(text)
    deployment = Deployment.open(Bundle.read(bundle), shared_data, log=lambda _: None)
    generative, model = deployment.engine.searchers["generative"], PlannedModel(served[0])
    assert (generative.beam, generative.page_beam) == (model.beam, model.page_beam) and model.beam != 20
    assert deployment.engine.searchers["hybrid"].depth == 50


def test_every_searcher_sees_the_corrected_query(open_deployment):
    engine = open_deployment().engine
    for searcher in ("bm25", "cascade", "generative"):
        assert _found(engine, searcher, "red bots", k=5) == _found(engine, searcher, "red boots", k=5), searcher


def test_an_upserted_item_enters_every_index_at_once_and_survives_a_restart(open_deployment):
    deployment = open_deployment()
    before = len(deployment.engine.items)
    engine = deployment.upsert([NEW])
    assert len(engine.items) == before + 1
    assert _found(engine, "bm25", "violet kimono")[0] == "new-1"
    assert "new-1" in _found(engine, "cascade", "violet silk kimono", k=5)
    code = engine.searchers["generative"].code_of["new-1"]
    assert engine.items["new-1"].code == "-".join(map(str, code))
    assert code not in {c for item, c in engine.searchers["generative"].code_of.items() if item != "new-1"}
    assert _found(engine, "generative", "kimono", filters=(None, "orbit", 70.0, None, None)) == ["new-1"]
    cascade = deployment.cascade
    reloaded = deployment.reload()
    assert deployment.cascade is cascade and reloaded.searchers["generative"].code_of["new-1"] == code
    restarted = open_deployment()
    assert restarted.engine.items["new-1"].title == NEW["title"]
    assert restarted.engine.searchers["generative"].code_of["new-1"] == code
    assert _found(restarted.engine, "bm25", "violet kimono")[0] == "new-1"


def test_a_change_derived_from_the_base_searches_like_the_catalog_rebuilt(open_deployment, served):
    """Items that leave and come back under new ids leave the catalog's statistics as they were,
    so the derived indexes must answer exactly as a searcher built over the whole changed table."""
    deployment = open_deployment()
    assert deployment.model.model.trained_on(deployment.base_items)  # so the change below is derived, not rebuilt
    rows = deployment.base_items.slice(0, 3).to_pylist()
    deployment.delete([row["item_id"] for row in rows])
    engine = deployment.upsert([{**row, "item_id": f"again-{row['item_id']}", "attributes": dict(row["attributes"] or [])} for row in rows])
    change, tail = deployment.state.split(deployment.base_items)
    rebuilt = PlannedModel(served[0]).searcher(change.table(deployment.base_items, tail), deployment.spec.beam, changed=True)
    for query in ("red boots", "wool hat", rows[0]["title"]):
        request = [SearchRequest(query, UserContext(None))]
        got, want = engine.searchers["generative"].search(request, 10)[0], rebuilt.search(request, 10)[0]
        assert [h.item_id for h in got] == [h.item_id for h in want], query
        assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-5, abs=1e-6)


def test_a_deleted_item_never_comes_back(open_deployment):
    deployment = open_deployment()
    target = _found(deployment.engine, "bm25", "red leather boots")[0]
    title = deployment.engine.items[target].title
    deployment.delete([target])
    for engine in (deployment.engine, open_deployment().engine):
        assert target not in engine.items
        for name in SEARCHERS:
            assert target not in _found(engine, name, title), name
        assert target not in engine.searchers["generative"].code_of
    with pytest.raises(LookupError, match="no item"):
        deployment.delete(["no-such-item"])
    deployment.upsert([{"item_id": target, "title": title}])
    assert target in _found(deployment.engine, "bm25", title)


def test_a_broken_model_is_refused_and_the_old_one_keeps_serving(open_deployment, served, tmp_path):
    deployment = open_deployment()
    serving = deployment.engine
    broken = tmp_path / "broken"
    shutil.copytree(served[0], broken)
    weights = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(weights[:-1] + bytes([weights[-1] ^ 1]))
    retired = tmp_path / "retired"
    shutil.copytree(served[0], retired)
    manifest = json.loads((retired / "manifest.json").read_text())
    (retired / "manifest.json").write_text(json.dumps({**manifest, "kind": "generative-decoder"}))
    for bad, problem in ((broken, "does not match the manifest"), (tmp_path / "missing", "not an artifact"), (retired, "first design .* retired")):
        with pytest.raises(DataError, match=problem):
            deployment.reload(str(bad))
        assert deployment.engine is serving
    assert not (tmp_path / "state.json").exists()
    fresh = tmp_path / "fresh"
    shutil.copytree(served[0], fresh)
    engine = deployment.reload(str(fresh))
    assert engine is not serving and _found(engine, "generative", "red boots", k=3)
    assert json.loads((tmp_path / "state.json").read_text())["model"] == str(fresh)
    assert open_deployment().model.path == str(fresh)


def test_replicas_share_every_acknowledged_change_and_a_restart_loses_none(open_deployment, bundle, tmp_path):
    """Two replicas of one bundle (one state file): an upsert made through one is served by both,
    a delete through the other too, and a restarted replica serves both changes."""
    first, second = open_deployment(), open_deployment()
    apps = [TestClient(create_app(d.engine, admin=d, admin_key="k" * 16)) for d in (first, second)]
    with apps[0] as one, apps[1] as two:
        admin = {"Authorization": "Bearer " + "k" * 16}
        assert one.post("/admin/items", json={"items": [NEW]}, headers=admin).status_code == 200
        assert not first.stale() and second.stale()
        for client in (one, two):
            hits = client.post("/search", json={"query": "violet silk kimono", "k": 5, "searcher": "bm25"}).json()["items"]
            assert hits[0]["item_id"] == "new-1"
            assert client.get("/items/new-1").status_code == 200
        assert not second.stale()
        target = _found(second.engine, "bm25", "red leather boots")[0]
        assert two.delete(f"/admin/items/{target}", headers=admin).status_code == 200
        assert target not in [h["item_id"] for h in one.post("/search", json={"query": "red leather boots", "k": 20, "searcher": "bm25"}).json()["items"]]
    stored = json.loads((tmp_path / "state.json").read_text())
    assert "new-1" in stored["upserts"] and target in stored["deleted"]
    restarted = open_deployment()
    assert "new-1" in restarted.engine.items and target not in restarted.engine.items


def test_a_full_or_read_only_state_disk_makes_changes_503_while_searches_go_on(open_deployment, monkeypatch):
    import errno

    deployment = open_deployment()
    key = "a-long-enough-admin-key"
    client = TestClient(create_app(deployment.engine, admin=deployment, admin_key=key))
    auth = {"Authorization": f"Bearer {key}"}
    for code, text in ((errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")):
        def refuse(*_args, code=code, text=text, **_kwargs):
            raise OSError(code, text)

        monkeypatch.setattr("onesearch.deploy.state.os.fsync", refuse)
        answer = client.post("/admin/items", json={"items": [{"item_id": "new-1", "title": "red wool hat"}]}, headers=auth)
        assert answer.status_code == 503 and text in answer.json()["error"]
        assert client.post("/search", json={"query": "red shoe", "k": 3, "searcher": "generative"}).status_code == 200
        assert "new-1" not in deployment.engine.items
    monkeypatch.undo()
    assert client.post("/admin/items", json={"items": [{"item_id": "new-1", "title": "red wool hat"}]}, headers=auth).status_code == 200
    assert open_deployment().engine.items.get("new-1") is not None  # stored once the disk took it


def test_a_corrupt_state_stops_the_start_unless_it_falls_back(open_deployment, bundle, shared_data):
    deployment = open_deployment()
    deployment.delete([next(iter(deployment.engine.items))])
    deployment.delete([list(deployment.engine.items)[1]])
    state = Path(Bundle.read(bundle).state)
    state.write_text("{not json")
    with pytest.raises(DataError, match="unreadable service state.*--state-fallback"):
        open_deployment()
    fallen = Deployment.open(Bundle.read(bundle), shared_data, log=lambda _: None, state_fallback=True)
    assert len(fallen.engine.items) == len(deployment.engine.items) + 1  # the generation before the last delete
