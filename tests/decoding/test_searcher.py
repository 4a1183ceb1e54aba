"""``GenerativeSearcher.with_codes`` / ``restricted``: the trie is exactly the given items."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.types import SearchRequest, UserContext

SIZES = (3, 3, 2)


def _states(texts):
    return torch.ones((len(texts), 2, 8)), torch.zeros((len(texts), 2), dtype=torch.bool)


@pytest.fixture
def searcher() -> GenerativeSearcher:
    torch.manual_seed(0)
    model = CodeDecoder(ModelConfig(SIZES, memory_dim=8, d_model=16, layers=1, heads=2, feedforward=32, dropout=0.0)).eval()
    codes = np.array([[a, b, 0] for a in range(3) for b in range(3)])
    return GenerativeSearcher(_states, model, [f"i{n}" for n in range(9)], codes, beam=18)


def _items(searcher: GenerativeSearcher) -> set[str]:
    return {hit.item_id for hit in searcher.search([SearchRequest("q", UserContext(None))], 18)[0]}


def test_with_codes_serves_exactly_the_new_catalog_and_leaves_the_original(searcher):
    changed = searcher.with_codes({"i0": (0, 0, 0), "new": (0, 0, 1), "i8": (2, 2, 0)})
    assert _items(changed) == {"i0", "new", "i8"}
    assert changed.code_of["new"] == (0, 0, 1)
    assert _items(searcher) == {f"i{n}" for n in range(9)}


def test_with_codes_refuses_an_empty_catalog_and_shared_codes(searcher):
    with pytest.raises(ValueError):
        searcher.with_codes({})
    with pytest.raises(ValueError, match="share"):
        searcher.with_codes({"a": (0, 0, 0), "b": (0, 0, 0)})


def test_restricted_generates_only_allowed_items(searcher):
    assert _items(searcher.restricted(["i1", "i5", "unknown"])) == {"i1", "i5"}
    with pytest.raises(ValueError):
        searcher.restricted(["unknown"])
