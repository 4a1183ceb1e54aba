import numpy as np

from onesearch.embedding.keywords import Keyword, KeywordMatcher, fuse, mine_keywords


def test_longest_match_wins_on_word_boundaries():
    matcher = KeywordMatcher([Keyword("red", "colour", 5), Keyword("red wine", "modifier", 3), Keyword("wine", "entity", 9)])
    assert [k.text for k in matcher.match("A Red Wine glass, reddish wine")] == ["red wine", "wine"]


def test_chinese_keywords_match_inside_words():
    matcher = KeywordMatcher([Keyword("手机", "entity", 3), Keyword("苹果手机", "entity", 2), Keyword("壳", "entity", 2)])
    assert [k.text for k in matcher.match("新款苹果手机壳")] == ["苹果手机", "壳"]


def test_mining_types_fields_and_frequent_title_ngrams():
    titles = [f"acme black steel hammer {i}" for i in range(30)] + ["zen garden hose"] * 2
    pool = {k.text: k for k in mine_keywords(titles, brands=["Acme"] * 32, categories=[["tools", "hammers"]] * 32, min_count=20, max_share=1.0)}
    assert pool["acme"].type == "brand"
    assert pool["hammers"].type == "entity" and pool["tools"].type == "category"
    assert pool["black"].type == "colour" and pool["steel"].type == "material"
    assert pool["black steel hammer"].type == "modifier"
    assert "zen garden hose" not in pool  # only 2 titles: below min_count


def test_fuse_averages_then_normalizes_and_keeps_raw_without_keywords():
    e = np.array([1.0, 0.0], dtype=np.float32)
    fused = fuse(e, np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32))
    np.testing.assert_allclose(fused, np.array([1.0, 1.0]) / np.sqrt(2), rtol=1e-6)
    assert fuse(e, np.zeros((0, 2), dtype=np.float32)) is e
