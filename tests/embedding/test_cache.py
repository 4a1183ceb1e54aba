import numpy as np

from onesearch.embedding.cache import encode_cached
from onesearch.embedding.encoder import normalize


class CountingEncoder:
    key = "counting"
    dim = 3

    def __init__(self):
        self.seen = []

    def encode(self, texts, kind):
        self.seen.extend(texts)
        return normalize(np.array([[len(t), t.count("a") + 1, 1.0 if kind == "query" else 2.0] for t in texts]))


def test_only_new_texts_are_encoded_and_results_match(tmp_path):
    encoder = CountingEncoder()
    first = encode_cached(encoder, ["ab", "abc", "ab"], "item", tmp_path)
    assert encoder.seen == ["ab", "abc"]
    second = encode_cached(encoder, ["abc", "zz", "ab"], "item", tmp_path)
    assert encoder.seen == ["ab", "abc", "zz"]
    np.testing.assert_array_equal(second[[0, 2]], first[[1, 0]])
    np.testing.assert_allclose(second, encoder.encode(["abc", "zz", "ab"], "item"))


def test_query_and_item_vectors_are_cached_apart(tmp_path):
    encoder = CountingEncoder()
    item = encode_cached(encoder, ["ab"], "item", tmp_path)
    query = encode_cached(encoder, ["ab"], "query", tmp_path)
    assert not np.allclose(item, query)
    assert not list(tmp_path.glob("*.tmp*"))


def test_a_read_only_lookup_encodes_what_is_missing_and_stores_nothing(tmp_path):
    encoder = CountingEncoder()
    encode_cached(encoder, ["ab"], "item", tmp_path)
    stored = sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir())
    vectors = encode_cached(encoder, ["ab", "new"], "item", tmp_path, keep=False)
    assert encoder.seen == ["ab", "new"]
    np.testing.assert_allclose(vectors, encoder.encode(["ab", "new"], "item"))
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir()) == stored
    encode_cached(encoder, ["new"], "item", tmp_path, keep=False)
    assert encoder.seen.count("new") == 3  # never stored, so encoded each time (the check above encoded it once too)
