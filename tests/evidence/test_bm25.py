import math

import numpy as np
import pytest

from onesearch.evidence.bm25 import Bm25Index, top_positive
from onesearch.evidence.items import RowChange
from onesearch.evidence.tokenize import Tokenizer

DOCS = [
    "cordless drill with battery",
    "drill bits set for wood",
    "garden hose 50 ft",
    "battery charger for cordless tools",
    "wood screws",
]


def brute_force_bm25(query_terms, docs_terms, k1=1.2, b=0.75):
    """Lucene BM25: idf = ln(1 + (N - df + 0.5) / (df + 0.5)); tf part = tf / (tf + k1 (1 - b + b dl / avgdl))."""
    n = len(docs_terms)
    avgdl = sum(len(d) for d in docs_terms) / n
    scores = []
    for doc in docs_terms:
        score = 0.0
        for term in query_terms:
            df = sum(term in d for d in docs_terms)
            tf = doc.count(term)
            if tf:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(score)
    return np.array(scores)


@pytest.mark.parametrize("query", ["cordless drill", "wood", "battery for drills", "nothing matches"])
def test_scores_agree_with_brute_force(query):
    tokenizer = Tokenizer("en")
    index = Bm25Index.build(DOCS, tokenizer)
    expected = brute_force_bm25(tokenizer(query), [tokenizer(d) for d in DOCS])
    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_save_load_round_trip(tmp_path):
    index = Bm25Index.build(DOCS, Tokenizer("en"))
    index.save(tmp_path)
    loaded = Bm25Index.load(tmp_path)
    np.testing.assert_allclose(loaded.scores("cordless battery"), index.scores("cordless battery"))
    assert loaded.tokenizer.language == "en"


def test_top_positive_keeps_only_matches_best_first():
    scores = np.array([0.0, 2.0, 0.5, 3.0, 0.0, 2.0], dtype=np.float32)
    assert top_positive(scores, 10).tolist() == [3, 1, 5, 2]
    assert top_positive(scores, 2).tolist() == [3, 1]


def test_a_changed_index_scores_the_tail_with_the_base_statistics_and_drops_removed_rows():
    tokenizer = Tokenizer("en")
    base = Bm25Index.build(DOCS, tokenizer)
    change = RowChange(np.array([0, 2, 3, 4]), 2)  # row 1 leaves; it comes back as the tail's first row
    changed = base.changed(change, [DOCS[1], "acme cordless drill"], DOCS)
    scores, before = changed.scores("drill bits wood"), base.scores("drill bits wood")
    assert changed.size == len(scores) == 6
    np.testing.assert_allclose(scores[:4], before[[0, 2, 3, 4]])
    np.testing.assert_allclose(scores[4], before[1], rtol=1e-6)  # the same text, the same statistics, the same score
    assert changed.scores("acme")[5] > 0 and not changed.scores("acme")[:5].any()  # a term only the tail has
    assert len(base.scores("drill")) == 5  # the base is untouched
    with pytest.raises(ValueError):
        changed.changed(change, [], DOCS)


def test_the_mean_length_round_trips_or_is_read_from_the_texts(tmp_path):
    tokenizer = Tokenizer("en")
    base = Bm25Index.build(DOCS, tokenizer)
    base.save(tmp_path)
    assert Bm25Index.load(tmp_path).mean_length == pytest.approx(base.mean_length)
    loaded = Bm25Index.load(tmp_path)
    loaded.mean_length = None
    change = RowChange(np.arange(5), 1)
    np.testing.assert_allclose(loaded.changed(change, ["garden hose"], DOCS).scores("hose"), base.changed(change, ["garden hose"], DOCS).scores("hose"))
