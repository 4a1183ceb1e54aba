"""``recent_rows``: the last known items of a history, oldest first."""

from onesearch.evidence.history import recent_rows
from onesearch.types import HistoryEvent, InteractionType


def test_recent_rows_skip_bare_searches_and_unknown_items_and_keep_the_last_ones():
    click = InteractionType.CLICK
    history = [HistoryEvent("a", click), HistoryEvent(None, InteractionType.SEARCH, query="q"),
               HistoryEvent("x", click), HistoryEvent("b", click), HistoryEvent("c", click)]
    row_of = {"a": 0, "b": 1, "c": 2}
    assert recent_rows(history, row_of, 2) == [1, 2]
    assert recent_rows(history, row_of, 10) == [0, 1, 2]
    assert recent_rows([], row_of, 3) == []
