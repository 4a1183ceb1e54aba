import numpy as np
import torch

from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.model.transformer import ModelConfig
from onesearch.training.generative import TrainConfig, train_decoder, training_pairs
from onesearch.types import Example, SearchRequest, Target

TITLES = ["red hat", "blue hat", "red shoe", "blue shoe"]
CODES = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]])


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


def test_pairs_hold_every_title_and_each_relevant_query_target_with_its_gain():
    train = [Example("e", "train", (Target("c", 2.0, True), Target("a", 0.5, False), Target("zz", 1.0, True)), query="crimson shoe")]
    pairs = training_pairs(TITLES, CODES, {"a": 0, "b": 1, "c": 2, "d": 3}, train)
    assert pairs.texts == [*TITLES, "crimson shoe"]
    assert pairs.codes[-1].tolist() == [1, 0, 0] and pairs.weights.tolist() == [1, 1, 1, 1, 2]


def test_trained_decoder_retrieves_the_right_real_item():
    pairs = training_pairs(TITLES, CODES, {}, [])
    config = ModelConfig(code_sizes=(2, 2, 1), memory_dim=8, d_model=32, layers=1, heads=2, feedforward=64, dropout=0.0)
    model, losses = train_decoder(pairs, token_states, config, TrainConfig(epochs=60, batch_size=4, learning_rate=3e-3), log=lambda m: None)
    assert losses["epoch_60"] < 0.2 * losses["epoch_1"]
    searcher = GenerativeSearcher(token_states, model, ["a", "b", "c", "d"], CODES, beam=4)
    hits = searcher.search([SearchRequest("blue shoe"), SearchRequest("red hat")], k=4)
    assert [h.item_id for h in hits[0]][0] == "d" and [h.item_id for h in hits[1]][0] == "a"
    assert sorted(h.item_id for h in hits[0]) == ["a", "b", "c", "d"]
