"""A small engine for the API tests: a stub lexical searcher and an untrained tiny generative
model over a 30-item catalog (its trie still guarantees real items)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.model.inputs import ContextBuilder, Views
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.serving.engine import Engine, ItemRecord
from onesearch.types import HistoryEvent, Hit, InteractionType, UserContext

SIZES = (3, 4, 3)
COLOURS = ("red", "blue", "green")


class WordSearcher:
    """Items whose title contains a query word, by item number (a deterministic stand-in)."""

    name = "bm25"

    def __init__(self, items: list[ItemRecord]) -> None:
        self.items = items
        self.calls: list[int] = []

    def search(self, requests, k):
        self.calls.append(len(requests))
        out = []
        for request in requests:
            words = set(request.query.split())
            out.append([Hit(i.item_id, 1.0 / (n + 1)) for n, i in enumerate(self.items) if words & set(i.title.split())][:k])
        return out


def _states(texts):
    generator = torch.Generator().manual_seed(len(texts))
    lengths = [max(1, len(t.split())) for t in texts]
    states = torch.randn((len(texts), max(lengths), 8), generator=generator)
    padding = torch.arange(max(lengths))[None, :] >= torch.tensor(lengths)[:, None]
    return states, padding


def make_catalog() -> list[ItemRecord]:
    """30 shoes in three colours, two brands, prices 10-39, codes in a 3x4x3 space."""
    codes = [(a, b, c) for a in range(3) for b in range(4) for c in range(3)][:30]
    return [
        ItemRecord(f"i{n}", f"{COLOURS[n % 3]} shoe {n}", brand="acme" if n % 2 else "zeta", category=("shoes", COLOURS[n % 3]), price=float(10 + n), code="-".join(map(str, code)))
        for n, code in enumerate(codes)
    ]


@pytest.fixture
def catalog() -> list[ItemRecord]:
    return make_catalog()


def make_engine(catalog: list[ItemRecord]) -> Engine:
    """The untrained generative searcher and the word searcher over ``catalog``; u1 is known."""
    torch.manual_seed(0)
    views = Views(short_term=True, short_queries=0)
    model = CodeDecoder(ModelConfig(SIZES, memory_dim=8, d_model=16, layers=1, heads=2, feedforward=32, dropout=0.0, views=views)).eval()
    codes = np.array([[int(v) for v in item.code.split("-")] for item in catalog])
    ids = [item.item_id for item in catalog]
    generative = GenerativeSearcher(_states, model, ids, codes, beam=12, builder=ContextBuilder.of(views, ids, codes, SIZES))
    stored = {"u1": UserContext("u1", {}, (HistoryEvent("i3", InteractionType.ORDER, 0, None), HistoryEvent(None, InteractionType.SEARCH, 1, "red shoe")))}
    return Engine({"generative": generative, "bm25": WordSearcher(catalog)}, catalog, stored.get)


@pytest.fixture
def engine(catalog) -> Engine:
    return make_engine(catalog)
