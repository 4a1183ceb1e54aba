"""The engine's warm-up: every searcher searched before a service settles its heap and serves."""

from __future__ import annotations

from onesearch.memory import WARM_UP
from onesearch.serving.engine import Engine
from onesearch.types import Hit, SearchRequest


class Recording:
    """Remembers every request it is asked."""

    def __init__(self) -> None:
        self.asked: list[SearchRequest] = []

    def search(self, requests, k):
        self.asked.extend(requests)
        return [[Hit("i0", 1.0)] for _ in requests]


def test_warm_up_searches_every_searcher_with_title_queries_and_the_sample_user(engine, catalog):
    first, second = Recording(), Recording()
    understood: list[str] = []

    def understand(requests):
        understood.extend(r.query for r in requests)
        return list(requests)

    warmed = Engine({"a": first, "b": second}, catalog, engine._users, ["u1"], understand=understand)
    warmed.warm_up()
    expected = [" ".join(item.title.split()[:3]) for item in catalog[:WARM_UP]]
    for searcher in (first, second):
        assert [r.query for r in searcher.asked] == expected
        assert {r.user.user_id for r in searcher.asked} == {"u1"} and all(r.user.history for r in searcher.asked)
    assert understood == expected * 2  # through the engine's one query-understanding step, as served


def test_warm_up_without_sample_users_searches_as_a_cold_user(catalog):
    recording = Recording()
    Engine({"a": recording}, catalog[:3]).warm_up(count=5)
    assert len(recording.asked) == 3 and all(r.user.user_id is None and not r.user.history for r in recording.asked)

