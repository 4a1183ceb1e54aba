from onesearch.catalog.text import clean_markup, clean_text, normalize_query


def test_mojibake_and_entities_are_repaired():
    assert clean_text("Quickie Tub \x89\u00db\u00f7N Tile 90\u00e8_ Elbow") == "Quickie Tub \u2019N Tile 90\u00b0 Elbow"
    assert clean_text("30\u00e5\u00a1 Men\x89\u00db\u00aas") == "30\u00b0 Men\u2019s"
    assert clean_text("Set\u00e5\u00ca(22-Piece) 5 mm\u00e5_") == "Set (22-Piece) 5 mm\u00b2"
    assert clean_text("Tom&#39;s &amp; Jerry&quot;s") == "Tom's & Jerry\"s"


def test_clean_text_leaves_good_text_untouched():
    for text in ("【香榭丽舍】高级静奢风法式长款遮肉显瘦进口貂皮大衣", "Café crème 90°", "tasco望远镜"):
        assert clean_text(text) == text
    assert clean_text("  two   spaces \n") == "two spaces"
    assert clean_text(None) is None


def test_markup_and_query_normalisation():
    assert clean_markup("a<br>b <!-- .x {color:red} --> <b>c</b>") == "a b c"
    assert normalize_query("  Angle   BRACKET ") == "angle bracket"
