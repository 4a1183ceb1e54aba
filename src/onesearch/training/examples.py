"""Training examples of the three curriculum stages, over one bank of distinct texts.

Contract: ``build_stages(...)`` returns, per stage, the examples that teach it:

- ``align`` (semantic alignment): every warm item's text -> its full code, plus pseudo-queries cut
  from titles (a word n-gram, sometimes led by one of the title's attribute keywords) -> the
  same code, so every item is seen under a query-like text; optionally (``categories``) each
  item's leaf category as a query -> its code (the decoder only writes codes, so the paper's
  code -> category task is taught in this direction: category words -> the codes under them);
- ``cooccur`` (query-item co-occurrence): every train query -> the code of each relevant warm item,
  weighted by gain (at least 1);
- ``personal``: the train examples that have a user, with their user context (also those with
  no query: next-item recommendation is search with an empty query).

Held-out ("cold") items appear in no stage; their codes stay in the trie. Texts are stored once in
``TextBank.texts``; examples point at them by index.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from onesearch.types import Example, SearchRequest

__all__ = ["STAGES", "StageExamples", "TextBank", "build_stages", "pseudo_queries"]

STAGES = ("align", "cooccur", "personal")
_WORD = re.compile(r"\w[\w'.-]*")


@dataclass
class TextBank:
    """Distinct texts; ``index(text)`` adds a text once and returns its id."""

    texts: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)

    def index(self, text: str) -> int:
        if text not in self._ids:
            self._ids[text] = len(self.texts)
            self.texts.append(text)
        return self._ids[text]


@dataclass
class StageExamples:
    """One stage: text ids, target full codes (``n x L``), weights, whether the text is a query
    (it then gets its query code as input) and, for ``personal``, the requests."""

    name: str
    text: np.ndarray
    codes: np.ndarray
    weights: np.ndarray
    is_query: np.ndarray
    requests: list[SearchRequest] | None = None

    def __len__(self) -> int:
        return len(self.text)


def pseudo_queries(title: str, keywords: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """``count`` query-like cuts of a title: a 1-4 word n-gram, led half the time by a keyword."""
    words = _WORD.findall(title.lower())
    out = []
    for _ in range(count if words else 0):
        length = rng.randint(1, min(4, len(words)))
        start = rng.randrange(len(words) - length + 1)
        text = " ".join(words[start : start + length])
        if keywords and rng.random() < 0.5:
            keyword = rng.choice(list(keywords)).lower()
            text = text if keyword in text else f"{keyword} {text}"
        out.append(text)
    return out


def build_stages(
    item_texts: Sequence[str],
    full_codes: np.ndarray,
    row_of: dict[str, int],
    train: Sequence[Example],
    request_of: Callable[[Example], SearchRequest],
    keywords_of: Callable[[str], list[str]],
    cold: set[str],
    item_ids: Sequence[str],
    pseudo_per_item: int = 1,
    seed: int = 0,
    categories: Sequence[str] | None = None,
) -> tuple[TextBank, dict[str, StageExamples]]:
    """The three stages (see module docstring); a stage with no examples is left out."""
    bank, rng = TextBank(), random.Random(seed)
    codes = np.asarray(full_codes)
    align: list[tuple[int, int, float, bool]] = []
    for row, (item_id, text) in enumerate(zip(item_ids, item_texts)):
        if item_id in cold:
            continue
        align.append((bank.index(text), row, 1.0, False))
        for query in pseudo_queries(text, keywords_of(text), pseudo_per_item, rng):
            align.append((bank.index(query), row, 1.0, True))
        if categories is not None and categories[row]:
            align.append((bank.index(categories[row]), row, 1.0, True))
    cooccur: list[tuple[int, int, float, bool]] = []
    personal: list[tuple[int, int, float, bool]] = []
    requests: list[SearchRequest] = []
    for example in train:
        if not example.query and example.user_id is None:
            continue
        targets = [(row_of[t.item_id], max(1.0, float(t.gain))) for t in example.targets if t.relevant and t.item_id in row_of and t.item_id not in cold]
        request = request_of(example) if example.user_id is not None else None
        text = bank.index(example.query or "")
        for row, weight in targets:
            entry = (text, row, weight, bool(example.query))
            if example.query:
                cooccur.append(entry)
            if request is not None:
                personal.append(entry)
                requests.append(request)
    stages = {
        "align": _stage("align", align, codes),
        "cooccur": _stage("cooccur", cooccur, codes),
        "personal": _stage("personal", personal, codes, requests),
    }
    return bank, {name: stage for name, stage in stages.items() if len(stage)}


def _stage(name: str, rows: list[tuple[int, int, float, bool]], codes: np.ndarray, requests: list[SearchRequest] | None = None) -> StageExamples:
    text, target, weight, is_query = (list(column) for column in zip(*rows)) if rows else ([], [], [], [])
    return StageExamples(
        name,
        np.asarray(text, dtype=np.int64),
        codes[np.asarray(target, dtype=np.int64)] if rows else np.zeros((0, codes.shape[1]), dtype=np.int64),
        np.asarray(weight, dtype=np.float32),
        np.asarray(is_query, dtype=bool),
        requests,
    )
