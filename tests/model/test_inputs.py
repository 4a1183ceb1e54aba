import numpy as np
import pytest
import torch

from onesearch.model.inputs import BEHAVIOURS, ContextBuilder, Kind, Views, pooled
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

SIZES = (4, 3, 2)
CODES = {"a": (1, 2, 0), "b": (1, 0, 1), "c": (3, 1, 0), "d": (1, 2, 1)}


def _request(*events: tuple[str | None, InteractionType, str | None], profile: dict | None = None) -> SearchRequest:
    history = tuple(HistoryEvent(item, kind, seq, query) for seq, (item, kind, query) in enumerate(events))
    return SearchRequest("now", UserContext("u", profile or {}, history))


def test_short_term_tokens_are_the_last_items_with_their_behaviour_oldest_first():
    builder = ContextBuilder(Views(short_term=True, short_items=2), CODES, SIZES)
    request = _request(("a", InteractionType.CLICK, None), ("zzz", InteractionType.ORDER, None), ("b", InteractionType.CART, None),
                       (None, InteractionType.SEARCH, "drill"), ("c", InteractionType.ORDER, None), ("d", InteractionType.IMPRESSION, None))
    context = builder.build([request])
    assert context.kinds[0].tolist() == [Kind.CART, Kind.ORDER]
    assert context.codes[0].tolist() == [[1, 0, 1], [3, 1, 0]]
    assert context.queries == [["drill"]]
    searches = [(None, InteractionType.SEARCH, q) for q in ("saw", "drill", "saw", "nails")]
    assert ContextBuilder(Views(short_term=True, short_queries=2), CODES, SIZES).queries_of([_request(*searches)]) == [["saw", "nails"]]
    assert ContextBuilder(Views(short_term=True, short_queries=0), CODES, SIZES).queries_of([_request(*searches)]) == [[]]


def test_user_id_is_the_dominant_coarse_code_of_recent_and_whole_history():
    builder = ContextBuilder(Views(user_id=True, recent_window=2), CODES, SIZES)
    order = InteractionType.ORDER
    context = builder.build([_request(("a", order, None), ("d", order, None), ("b", order, None), ("c", order, None), ("c", order, None))])
    assert context.kinds[0].tolist() == [Kind.USER_RECENT, Kind.USER_LONG]
    assert context.codes[0, 0].tolist() == [3, 1, -1]
    assert context.codes[0, 1].tolist() == [1, 2, -1]


def test_long_term_counts_values_per_behaviour_and_level():
    builder = ContextBuilder(Views(long_term=True), CODES, SIZES)
    context = builder.build([_request(("a", InteractionType.ORDER, None), ("b", InteractionType.ORDER, None), ("c", InteractionType.CLICK, None)), SearchRequest("x")])
    counts = context.long_term
    assert counts.shape == (2, len(BEHAVIOURS), sum(SIZES)) and counts[1].sum() == 0
    order = counts[0, BEHAVIOURS.index(InteractionType.ORDER)].tolist()
    assert order[:4] == [0, 2, 0, 0] and order[4:7] == [1, 0, 1] and order[7:] == [1, 1]
    assert counts[0, BEHAVIOURS.index(InteractionType.CLICK), 3] == 1


def test_query_code_and_profile_views():
    views = Views(query_code=True, profile=True, profile_vocab=64)
    builder = ContextBuilder(views, CODES, SIZES)
    requests = [_request(profile={"age": "30", "city": "x"}), SearchRequest("y")]
    context = builder.build(requests, np.array([[2, 1], [-1, -1]]))
    assert context.kinds.tolist() == [[Kind.QUERY_CODE], [Kind.PAD]]
    assert context.codes[0, 0].tolist() == [2, 1, -1]
    assert (context.profile[0] > 0).sum() == 2 and (context.profile[1] == 0).all()
    assert builder.build(requests[:1], np.array([[2, 1]])).profile.tolist() == context.profile[:1, :2].tolist()
    with pytest.raises(ValueError, match="query_codes"):
        builder.build(requests)


def test_pooled_ignores_padding():
    states = torch.tensor([[[3.0, 0.0], [100.0, 100.0]]])
    assert pooled(states, torch.tensor([[False, True]])).tolist() == [[1.0, 0.0]]


def test_matched_behaviour_is_the_users_items_under_the_query_level0_most_often_first():
    builder = ContextBuilder(Views(query_code=True, matched_items=2), CODES, SIZES)
    order = InteractionType.ORDER
    request = _request(("a", order, None), ("b", order, None), ("d", order, None), ("a", order, None), ("c", order, None), ("b", order, None), ("a", order, None))
    context = builder.build([request], np.array([[1, 0]]))
    assert context.kinds[0].tolist() == [Kind.QUERY_CODE, Kind.MATCHED_OFTEN, Kind.MATCHED_TWICE]
    assert context.codes[0, 1:].tolist() == [list(CODES["a"]), list(CODES["b"])]
    assert builder.build([request], np.array([[2, 0]])).kinds[0].tolist() == [Kind.QUERY_CODE]
