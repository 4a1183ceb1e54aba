"""Ingest keys: parsing with located errors, constant-time lookup by name, a token bucket per key."""

from __future__ import annotations

import pytest

from onesearch.errors import DataError
from onesearch.serving.keys import IngestKeys


def test_lines_and_the_environment_form_parse_to_named_keys():
    keys = IngestKeys.parse("# shop keys\nweb  0123456789abcdef-web\n\napp 0123456789abcdef-app  # the app\n", "keys.txt")
    assert keys.keys == {"web": "0123456789abcdef-web", "app": "0123456789abcdef-app"}
    assert IngestKeys.parse("web=0123456789abcdef-web,app=0123456789abcdef-app", "$ONESEARCH_INGEST_KEYS").keys == keys.keys
    assert keys.identify("0123456789abcdef-app") == "app" and keys.identify("0123456789abcdef") is None


@pytest.mark.parametrize("text, problem", [
    ("web short\n", "keys.txt: row 1: an ingest key is 'NAME KEY'"),
    ("web 0123456789abcdef-1\nweb 0123456789abcdef-2\n", "keys.txt: row 2: ingest key 'web' repeats"),
    ("a 0123456789abcdef-1\nb 0123456789abcdef-1\n", "keys.txt: row 2: ingest key 'b' repeats"),
    ("# nothing\n", "keys.txt: no ingest keys"),
])
def test_a_bad_key_file_is_one_located_error(text, problem):
    with pytest.raises(DataError) as caught:
        IngestKeys.parse(text, "keys.txt")
    assert str(caught.value).startswith(problem)


def test_each_key_has_its_own_bucket(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("onesearch.serving.keys.time.monotonic", lambda: clock[0])
    keys = IngestKeys({"a": "0123456789abcdef-a", "b": "0123456789abcdef-b"}, rate=2.0, burst=2)
    assert [keys.take("a"), keys.take("a")] == [None, None]
    assert keys.take("a") == pytest.approx(0.5)  # empty: one event back in half a second
    assert keys.take("b") is None  # another key is not slowed
    clock[0] += 0.5
    assert keys.take("a") is None
