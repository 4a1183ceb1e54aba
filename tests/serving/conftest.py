"""A small engine for the API tests: a stub lexical searcher and an untrained anchored generative
searcher over a 30-item catalog (its code tree still guarantees real items)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import uvicorn

from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.tree import CodeTree
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.serving.engine import Engine, ItemRecord
from onesearch.types import HistoryEvent, Hit, InteractionType, UserContext

DIM, FEATURES = 8, 3
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


class _NoPlan:
    """An empty look-ahead plan: the untrained model scores by vectors alone."""

    rows = np.zeros(0, dtype=np.int64)
    features = np.zeros((0, FEATURES), dtype=np.float32)


def _vectors(texts: list[str]) -> np.ndarray:
    """A toy encoder: each word a fixed random unit vector, a text their normalised sum."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.split():
            out[row] += np.random.default_rng(sum(map(ord, word))).normal(size=DIM)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


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
    codes = np.array([[int(v) for v in item.code.split("-")] for item in catalog])
    tree = CodeTree(codes)
    nodes = [torch.from_numpy(_vectors([f"node{depth}-{n}" for n in range(count)])) for depth, count in enumerate(tree.counts)]
    model = AnchoredDecoder(AnchoredConfig(dim=DIM, nodes=tree.counts, evidence=FEATURES + 1), nodes)
    ids = [item.item_id for item in catalog]
    generative = PlannedSearcher(model, ids, codes, _vectors, lambda request, extra: _NoPlan(), np.zeros((len(ids), 1), dtype=np.float32), beam=12)
    stored = {"u1": UserContext("u1", {}, (HistoryEvent("i3", InteractionType.ORDER, 0, None), HistoryEvent(None, InteractionType.SEARCH, 1, "red shoe")))}
    return Engine({"generative": generative, "bm25": WordSearcher(catalog)}, catalog, stored.get)


@pytest.fixture
def engine(catalog) -> Engine:
    return make_engine(catalog)


def serve_in_thread(app) -> Iterator[int]:
    """Run ``app`` with uvicorn on a free loopback port in a thread; yield the port, then stop it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(10)

