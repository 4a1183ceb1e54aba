import random

import numpy as np
import torch

from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.model.transformer import ModelConfig
from onesearch.training.examples import build_stages, pseudo_queries
from onesearch.training.generative import EncodedTexts, TrainConfig, train
from onesearch.types import Example, SearchRequest, Target, UserContext

TITLES = ["red hat", "blue hat", "red shoe", "blue shoe"]
IDS = ["a", "b", "c", "d"]
CODES = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]])
CONFIG = ModelConfig(code_sizes=(2, 2, 1), memory_dim=8, d_model=32, layers=1, heads=2, feedforward=64, dropout=0.0)
QUIET = {"log": lambda message: None}


def token_states(texts):
    """A toy frozen encoder: one token per word, embedded by a fixed random table."""
    table = {w: torch.randn(8, generator=torch.Generator().manual_seed(i)) for i, w in enumerate(["red", "blue", "hat", "shoe", "crimson"])}
    length = max(len(t.split()) for t in texts)
    states = torch.zeros(len(texts), length, 8)
    padding = torch.ones(len(texts), length, dtype=torch.bool)
    for i, text in enumerate(texts):
        for j, word in enumerate(text.split()):
            states[i, j], padding[i, j] = table[word], False
    return states, padding


def _stages(train_examples=(), cold=frozenset(), pseudo=0):
    request_of = lambda e: SearchRequest(e.query, UserContext(e.user_id))  # noqa: E731
    return build_stages(TITLES, CODES, {i: r for r, i in enumerate(IDS)}, list(train_examples), request_of, lambda t: [], set(cold), IDS, pseudo)


def test_stages_hold_titles_relevant_query_targets_and_user_examples():
    train_examples = [
        Example("e", "train", (Target("c", 2.0, True), Target("a", 0.5, False), Target("zz", 1.0, True)), query="crimson shoe"),
        Example("f", "train", (Target("d", 1.0, True), Target("b", 1.0, True)), query="blue", user_id="u"),
        Example("g", "train", (Target("a", 1.0, True),), user_id="v"),
        Example("h", "train", (Target("a", 1.0, True),)),
    ]
    bank, stages = _stages(train_examples, cold={"b"})
    assert [bank.texts[i] for i in stages["align"].text] == ["red hat", "red shoe", "blue shoe"]
    assert not stages["align"].is_query.any()
    cooccur = stages["cooccur"]
    assert [bank.texts[i] for i in cooccur.text] == ["crimson shoe", "blue"] and cooccur.is_query.all()
    assert cooccur.codes.tolist() == [[1, 0, 0], [1, 1, 0]] and cooccur.weights.tolist() == [2.0, 1.0]
    personal = stages["personal"]
    assert [r.user.user_id for r in personal.requests] == ["u", "v"] and personal.is_query.tolist() == [True, False]
    assert bank.texts[personal.text[1]] == ""


def test_pseudo_queries_are_cuts_of_the_title():
    rng = random.Random(0)
    queries = pseudo_queries("Acme Red Leather Boots size 9", ["acme"], 20, rng)
    words = set("acme red leather boots size 9".split())
    assert len(queries) == 20 and all(set(q.split()) <= words for q in queries)
    assert any(q.startswith("acme ") for q in queries) and pseudo_queries("", ["acme"], 3, rng) == []


def test_trained_decoder_retrieves_the_right_real_item():
    bank, stages = _stages()
    texts = EncodedTexts.build(bank.texts, token_states, **QUIET)
    result = train(stages, texts, CONFIG, TrainConfig(align_epochs=60, batch_size=4, learning_rate=3e-3), **QUIET)
    assert result.losses["align_60"] < 0.2 * result.losses["align_1"] and result.examples_per_second > 0
    assert result.curve and {stage for _, _, stage in result.curve} == {"align"}
    searcher = GenerativeSearcher(token_states, result.model, IDS, CODES, beam=4)
    hits = searcher.search([SearchRequest("blue shoe"), SearchRequest("red hat")], k=4)
    assert [h.item_id for h in hits[0]][0] == "d" and [h.item_id for h in hits[1]][0] == "a"
    assert sorted(h.item_id for h in hits[0]) == ["a", "b", "c", "d"]


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    bank, stages = _stages([Example("e", "train", (Target("c", 1.0, True),), query="crimson shoe")])
    texts = EncodedTexts.build(bank.texts, token_states, **QUIET)
    config = TrainConfig(align_epochs=3, cooccur_epochs=2, batch_size=2, learning_rate=3e-3)
    whole = train(stages, texts, CONFIG, config, **QUIET)
    first = train(stages, texts, CONFIG, TrainConfig(**{**config.__dict__, "cooccur_epochs": 0}), checkpoints=tmp_path / "ck", **QUIET)
    assert set(first.losses) == {"align_1", "align_2", "align_3"}
    resumed = train(stages, texts, CONFIG, config, checkpoints=tmp_path / "ck", **QUIET)
    assert set(resumed.losses) == set(whole.losses)
    assert resumed.losses["align_3"] == first.losses["align_3"]
