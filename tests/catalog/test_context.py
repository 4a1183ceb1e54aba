"""The user-context resolver: both history forms, and nothing from the example's own moment or later."""

from __future__ import annotations

from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.types import Example, HistoryEvent, InteractionType, Target


def test_history_end_gives_the_users_strictly_earlier_events(tiny_shop):
    dataset = registry.load("generic", tiny_shop, source=tiny_shop)
    resolver = ContextResolver(dataset)
    log = dataset.interactions.to_pandas()
    for example in list(examples_of(dataset.examples))[:60]:
        request = resolver.request(example)
        earlier = log[(log["user_id"] == example.user_id) & (log["seq"] < example.history_end)]
        assert request.query == example.query and request.user.user_id == example.user_id
        assert [e.seq for e in request.user.history] == sorted(earlier["seq"].tolist())
        assert all(e.seq < example.history_end for e in request.user.history)
        searches = [e for e in request.user.history if e.type is InteractionType.SEARCH]
        assert all(e.item_id is None and e.query for e in searches)


def test_explicit_history_passes_through_and_anonymous_examples_have_no_user(tiny_shop):
    dataset = registry.load("generic", tiny_shop, source=tiny_shop)
    resolver = ContextResolver(Dataset("x", dataset.items))
    history = (HistoryEvent("i1", InteractionType.CLICK), HistoryEvent("i2", InteractionType.ORDER))
    explicit = Example("e1", "test", (Target("i3", 1.0, True),), user_id="u9", history=history)
    assert resolver.request(explicit).user.history == history
    assert resolver.request(explicit).query == ""
    anonymous = resolver.request(Example("e2", "test", (), query="red hat"))
    assert anonymous.user.user_id is None and anonymous.user.history == ()
