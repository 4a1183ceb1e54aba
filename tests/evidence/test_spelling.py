"""``Speller``: unknown query words are corrected to the catalog's nearest word, known ones never."""

from __future__ import annotations

from onesearch.evidence.spelling import Speller

TEXTS = ["Outdoor patio tile", "Outdoor ceiling fan", "Stranded copper wire 14 gauge", "Toilet seat", "Tile saw"]


def test_one_edit_in_a_word_is_undone():
    speller = Speller.from_texts(TEXTS)
    assert speller.correct("ourdoor patio tiel") == "outdoor patio tile"  # replace, then a swap
    assert speller.correct("strnded wire") == "stranded wire"  # a deletion
    assert speller.correct("ceilling fan") == "ceiling fan"  # an insertion


def test_known_short_and_non_alphabetic_words_are_kept_as_typed():
    speller = Speller.from_texts(TEXTS)
    assert speller.correct("Tile SAW 2x4 14 ga") == "Tile SAW 2x4 14 ga"
    assert speller.correct("") == ""


def test_a_word_with_no_close_neighbour_is_kept():
    speller = Speller.from_texts(TEXTS)
    assert speller.correct("sofa xylophone") == "sofa xylophone"


def test_long_words_allow_two_edits_and_the_most_frequent_neighbour_wins():
    speller = Speller.from_texts([*TEXTS, "toilet", "toilet"])
    assert speller.correct("strandd coper") == "stranded copper"
    assert speller.correct("stradned") == "stranded"  # 8 letters: a swap
    assert speller.correct("toilit") == "toilet"


def test_an_extended_speller_knows_the_new_words_and_keeps_the_old():
    speller = Speller.from_texts(TEXTS)
    extended = speller.extended(["Acme kimono robe", "Outdoor tile"])
    assert extended.correct("kimomo") == "kimono" and speller.correct("kimomo") == "kimomo"
    assert extended.correct("ourdoor patio tiel") == "outdoor patio tile"
    assert "acme" in extended.vocabulary and "acme" not in speller.vocabulary
