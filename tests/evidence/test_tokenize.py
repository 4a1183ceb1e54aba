from onesearch.evidence.tokenize import Tokenizer, detect_language


def test_english_is_lowercased_stemmed_and_stop_words_dropped():
    assert Tokenizer("en")("The Cordless Drills for Running") == ["cordless", "drill", "run"]


def test_chinese_is_segmented_and_latin_words_kept():
    terms = Tokenizer("zh")("苹果手机 iPhone 15")
    assert "苹果" in terms and "手机" in terms and "iphon" in terms and "15" in terms


def test_language_detection():
    assert detect_language(["cordless drill", "garden hose"]) == "en"
    assert detect_language(["苹果手机壳", "男士运动鞋 nike"]) == "zh"
