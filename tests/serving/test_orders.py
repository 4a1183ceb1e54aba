"""``POST /orders/diagnose`` over a real diagnosis model (fitted on the synthetic shop): key checks
first, flags and reasons back, bad rows as one 422, off without a model."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onesearch.orders.model import DiagnosisConfig, Diagnoser
from onesearch.orders.schema import lines_to_orders
from onesearch.serving.app import create_app
from tests.orders.synthetic import synthetic_lines

KEY = "a-long-enough-admin-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def diagnoser():
    return Diagnoser.fit(lines_to_orders(synthetic_lines(1500)), DiagnosisConfig(trees=60))


@pytest.fixture(scope="module")
def batch():
    lines = synthetic_lines(300, seed=1).drop(columns=["problem"])
    lines["ordered_at"] = lines["ordered_at"].dt.strftime("%Y-%m-%d")
    return [{key: value for key, value in row.items() if value is not None} for row in lines.to_dict("records")]


@pytest.fixture
def client(engine, diagnoser):
    return TestClient(create_app(engine, admin_key=KEY, orders=diagnoser))


def test_diagnosis_needs_the_key_before_the_body_is_read(client):
    assert client.post("/orders/diagnose", json={"orders": []}).status_code == 401
    assert client.post("/orders/diagnose", json={}, headers={"Authorization": "Bearer wrong-key-wrong-key"}).status_code == 401


def test_a_batch_comes_back_flagged_ranked_and_explained(client, batch):
    response = client.post("/orders/diagnose", json={"orders": batch}, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["orders"]) == len({line["order_id"] for line in batch})
    assert len(body["ship_first"]) == 20 and body["check"]
    ranks = {row["order_id"]: row["ship_rank"] for row in body["orders"]}
    assert [ranks[order] for order in body["ship_first"]] == list(range(1, 21))
    assert all(0 <= row["risk"] <= 1 and row["reasons"] for row in body["orders"])
    assert client.get("/healthz").json()["orders"] is True


def test_a_bad_row_is_one_422_naming_it(client, batch):
    bad = [dict(batch[0]), {**batch[1], "ordered_at": "31/12/2024 10:00"}]
    response = client.post("/orders/diagnose", json={"orders": bad}, headers=AUTH)
    assert response.status_code == 422 and "row 2: column 'ordered_at'" in response.json()["error"]
    wrong_type = client.post("/orders/diagnose", json={"orders": [{**batch[0], "quantity": "two"}]}, headers=AUTH)
    assert wrong_type.status_code == 422


def test_without_a_model_the_route_says_it_is_off(engine, batch):
    client = TestClient(create_app(engine, admin_key=KEY))
    response = client.post("/orders/diagnose", json={"orders": batch[:2]}, headers=AUTH)
    assert response.status_code == 404 and "--orders-model" in response.json()["error"]
    assert client.get("/healthz").json()["orders"] is False
