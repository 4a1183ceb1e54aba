"""The shop-trained byte-level BPE: any script encodes, padding contract, save/load."""

from __future__ import annotations

from onesearch.embedding.tokenizer import ShopTokenizer, train_tokenizer

TEXTS = ["红色 连衣裙 夏季", "男士 运动鞋 黑色", "Red Summer Dress", "蓝牙 耳机 无线", "连衣裙 长款"] * 20


def test_frequent_words_become_single_ids_and_unseen_characters_still_encode():
    tokenizer = train_tokenizer(TEXTS, vocab_size=400)
    ids, padding = tokenizer.ids(["连衣裙", "龘"])
    assert (~padding[0]).sum() == 1  # a frequent word is one subword
    assert (~padding[1]).sum() >= 1 and ids[1][~padding[1]].min() > 0  # unseen: byte ids, never padding
    assert tokenizer.tokenizer.decode(ids[0][~padding[0]].tolist()) == "连衣裙"


def test_padding_is_zero_masked_and_an_empty_text_keeps_one_position(tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=400, max_length=4)
    ids, padding = tokenizer.ids(["red summer dress 红色 连衣裙 夏季 长款", "", "red"])
    assert ids.shape[1] == 4 and not padding[0].any()
    assert padding[1].tolist() == [False, True, True, True] and ids[1].tolist() == [0, 0, 0, 0]
    assert (ids[2][padding[2]] == 0).all()
    tokenizer.save(tmp_path)
    again = ShopTokenizer.load(tmp_path, max_length=4)
    assert again.vocab_size == tokenizer.vocab_size and again.ids(["red 连衣裙"])[0].equal(tokenizer.ids(["red 连衣裙"])[0])
