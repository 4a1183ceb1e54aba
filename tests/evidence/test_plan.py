"""``Planner``: which items get request evidence and what their features say."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.cobuy import CoBuyers
from onesearch.evidence.items import ItemTable, RowChange
from onesearch.evidence.plan import EVIDENCE, Planner
from onesearch.evidence.transitions import Transitions
from onesearch.evidence.tokenize import Tokenizer
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

TITLES = ["red cotton shirt", "blue cotton shirt", "red leather boots", "green wool hat", "black leather bag"]


@pytest.fixture
def planner() -> Planner:
    table = pa.table({"item_id": [f"i{n}" for n in range(5)], "title": TITLES, "brand": ["a", "b", "a", None, "b"],
                      "category": [["top", "shirts"], ["top", "shirts"], ["shoes"], ["hats"], ["bags"]]})
    tokenizer = Tokenizer("en")
    items = ItemTable.from_items(table, tokenizer)
    ngrams = Bm25Index.build(items.texts, Tokenizer("ngram"))
    return Planner(items, Bm25Index.build(items.texts, tokenizer), np.array([0, 3, 0, 1, 0], dtype=np.float32), depth=10, ngrams=ngrams)


def _column(plan, name: str) -> dict[int, float]:
    return dict(zip(plan.rows.tolist(), plan.features[:, EVIDENCE.index(name)].tolist()))


def test_lexical_plan_holds_the_matching_items_with_coverage_and_phrase(planner):
    plan = planner.plan(SearchRequest("red shirt"))
    assert {0, 1, 2} <= set(plan.rows.tolist()) and 3 not in plan.rows
    coverage = _column(plan, "term_coverage")
    assert coverage[0] == 1.0 and coverage[1] == 0.5 and coverage[2] == 0.5
    assert _column(plan, "bm25_share")[0] == 1.0 and _column(plan, "bm25_reciprocal_rank")[0] == 1.0
    assert _column(plan, "phrase_match")[0] == 0.0 and _column(planner.plan(SearchRequest("cotton shirt")), "phrase_match")[0] == 1.0


def test_word_pairs_and_log_ranks_separate_the_lexical_matches(planner):
    plan = planner.plan(SearchRequest("red cotton shirt"))
    pairs = _column(plan, "bigram_coverage")
    assert pairs[0] == 1.0 and pairs[1] == 0.5 and pairs[2] == 0.0  # "cotton shirt" but not "red cotton" in item 1
    ranks = _column(plan, "bm25_log_rank")
    assert ranks[0] == 1.0 and 0.0 < ranks[2] < ranks[1] < 1.0 and ranks.get(3, 0.0) == 0.0


def test_a_misspelt_word_still_reaches_its_items_through_character_ngrams(planner):
    plan = planner.plan(SearchRequest("leathr"))
    ngram = _column(plan, "ngram_share")
    assert ngram[2] > 0 and ngram[4] > 0
    assert _column(plan, "bm25_share").get(2, 0.0) == 0.0


def test_user_items_are_planned_with_counts_by_type_and_recency(planner):
    history = (HistoryEvent("i3", InteractionType.CLICK), HistoryEvent("i4", InteractionType.ORDER), HistoryEvent("i3", InteractionType.ORDER))
    plan = planner.plan(SearchRequest("", UserContext("u", {}, history)))
    assert set(plan.rows.tolist()) == {3, 4}
    assert _column(plan, "user_recency") == {3: 1.0, 4: 0.5}
    assert _column(plan, "user_order")[3] == pytest.approx(np.log1p(1) / 3) and _column(plan, "user_count")[3] == pytest.approx(np.log1p(2) / 3)


def test_habit_columns_tell_old_touches_apart_and_read_the_touch_rate_since_the_first(planner):
    history = tuple(HistoryEvent(f"i{row}", InteractionType.ORDER) for row in (3, 0, 3, 1, 0))
    plan = planner.plan(SearchRequest("red shirt", UserContext("u", {}, history)))
    gap, rate, length = _column(plan, "user_gap"), _column(plan, "user_rate"), _column(plan, "user_history")
    assert gap[0] > gap[1] > gap[3] > 0.0 and gap[2] == 0.0  # last touched 1, 2 and 3 events back; never
    assert rate[3] == pytest.approx(2 / 5) and rate[0] == pytest.approx(2 / 4) and rate[1] == pytest.approx(1 / 2) and rate[2] == 0.0
    assert list(length.values()) == pytest.approx([np.log1p(5) / np.log1p(3000)] * len(plan.rows))
    assert list(_column(plan, "query_terms").values()) == pytest.approx([0.2] * len(plan.rows))
    anonymous = planner.plan(SearchRequest("red shirt"))
    assert not _column(anonymous, "user_history")[0] and not _column(anonymous, "user_gap")[0]


def test_static_popularity_is_scaled_and_leave_one_out(planner):
    static = planner.static()
    assert static.shape == (5, 2) and static[1, 0] == 1.0 and static[0, 0] == 0.0
    assert static[:, 1].max() == 1.0 and (static[:, 1] > 0).all()  # log term counts over the longest
    assert planner.static(np.array([1]), frozenset({1}))[0, 0] == pytest.approx(np.log1p(2) / np.log1p(3))


def test_extra_rows_join_the_plan_with_the_same_evidence(planner):
    history = (HistoryEvent("i1", InteractionType.CLICK),)
    plan = planner.plan(SearchRequest("wool", UserContext("u", {}, history)), extra=np.array([0]))
    assert set(plan.rows.tolist()) == {0, 1, 3}
    assert _column(plan, "user_leaf_share")[0] == 1.0  # item 0 shares the clicked item's leaf category
    assert _column(plan, "term_coverage")[0] == 0.0 and _column(plan, "term_coverage")[3] == 1.0


def test_a_changed_planner_plans_as_a_rebuilt_one_when_the_tail_restores_the_same_texts(planner):
    """Rows 1 and 3 leave and come back (as new ids) in the tail: the catalog's statistics are
    the base's again, so the derived planner must plan exactly like one built from scratch."""
    base = planner.items
    change = RowChange(np.array([0, 2, 4]), 2)
    tail = pa.table({"item_id": ["n1", "n3"], "title": [TITLES[1], TITLES[3]], "brand": ["b", None], "category": [["top", "shirts"], ["hats"]]})
    items = base.changed(change, tail, planner.bm25.tokenizer)
    popularity = np.array([0, 0, 0, 3, 1], dtype=np.float32)
    derived = planner.changed(items, change, popularity, None, None)
    rebuilt = Planner(items, Bm25Index.build(items.texts, planner.bm25.tokenizer), popularity, depth=10, ngrams=Bm25Index.build(items.texts, Tokenizer("ngram")))
    assert items.ids == ["i0", "i2", "i4", "n1", "n3"] and items.brand[3] == base.brand[1]
    for query in ("red shirt", "cotton shirt", "wool hat", "leathr bag"):
        got, want = derived.plan(SearchRequest(query)), rebuilt.plan(SearchRequest(query))
        np.testing.assert_array_equal(got.rows, want.rows)
        np.testing.assert_allclose(got.features, want.features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(derived.static(), rebuilt.static())
    assert planner.items is base and len(planner.bm25.scores("red")) == 5  # the base is untouched


def test_preceders_are_planned_only_when_switched_on(planner):
    transitions = Transitions.fit([(0, 1), (2, 1), (2, 1), (1, 3)])
    request = SearchRequest("", UserContext("u", {}, (HistoryEvent("i1", InteractionType.ORDER),)))
    on = Planner(planner.items, planner.bm25, planner.popularity, depth=10, transitions=transitions, preceders=True).plan(request)
    assert _column(on, "prev_item_rank") == {0: 0.5, 1: 0.0, 2: 1.0, 3: 0.0}  # 2 came before i1 twice, 0 once
    assert _column(on, "next_item_rank")[3] == 1.0 and _column(on, "prev_item")[2] == 1.0
    off = Planner(planner.items, planner.bm25, planner.popularity, depth=10, transitions=transitions).plan(request)
    assert set(off.rows.tolist()) == {1, 3} and not any(_column(off, "prev_item").values())


def test_co_bought_lexical_matches_join_the_plan_with_their_share_rank_and_buyers(planner):
    co_buyers = CoBuyers.fit({"a": [3, 0], "b": [3, 1], "c": [3, 1], "d": [2]}, items=5)
    with_co = Planner(planner.items, planner.bm25, planner.popularity, depth=1, co_buyers=co_buyers)
    request = SearchRequest("shirt", UserContext("a", {}, (HistoryEvent("i3", InteractionType.ORDER),)))
    plan = with_co.plan(request)
    assert 1 in plan.rows.tolist() and 2 not in plan.rows.tolist()  # shirt 1: two other buyers of the hat; the boots match no word
    assert _column(plan, "co_buy")[1] == 1.0 and _column(plan, "co_buy_rank")[1] == 1.0 and _column(plan, "co_buy")[0] == 0.0  # a's own pair left out
    assert _column(plan, "buyers")[1] == pytest.approx(np.log1p(2) / np.log1p(4))
    assert not any(_column(planner.plan(request), "co_buy").values())
