"""The leakage audit every ``onesearch eval`` runs before it scores anything.

Contract: ``audit(train, evaluated, query_split)`` counts, over the evaluated examples, the three
ways an answer can reach training, and names the first offending example:

- ``verbatim``: an evaluated (user, query, history, target) is also a train example (the
  history is the explicit item list, or the ``history_end`` bound of a logged user);
- ``future``: a train example of the same user holds an interaction the evaluated example asks
  for, or anything after its history. For a logged user (``history_end``) that is a train
  example whose history reaches past the evaluated one's (or ends with it and shares a target);
  for an explicit history, a train row whose items contain the evaluated step (the history's
  last item followed by the target, or the target alone after an empty history) outside the
  evaluated history itself;
- ``shared_queries``: for tasks split by query (``query_split``), an evaluated query text that a
  train example also asks (compared normalised).

An example counts once per check, however many of its targets leak. Pure function of its
inputs; reads no files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from onesearch.catalog.text import normalize_query
from onesearch.types import Example

__all__ = ["CHECKS", "LeakAudit", "audit"]

CHECKS = ("verbatim", "future", "shared_queries")


@dataclass(frozen=True)
class LeakAudit:
    """Counts of evaluated examples per check, and the first offence found (None when clean)."""

    evaluated: int
    verbatim: int = 0
    future: int = 0
    shared_queries: int = 0
    first: str | None = None

    @property
    def leaks(self) -> int:
        """Evaluated examples caught by any check (an example caught twice counts twice)."""
        return self.verbatim + self.future + self.shared_queries

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "leaks": self.leaks}

    def line(self) -> str:
        """One line a person reads: the counts and the first offence."""
        counts = ", ".join(f"{getattr(self, check):,} {check.replace('_', ' ')}" for check in CHECKS)
        return f"leakage audit of {self.evaluated:,} evaluated examples: {counts}" + (f"; first: {self.first}" if self.first else "")


def audit(train: Iterable[Example], evaluated: Sequence[Example], query_split: bool) -> LeakAudit:
    """The three counts of ``evaluated`` against ``train`` (see module docstring)."""
    index = _TrainIndex(train)
    counts = dict.fromkeys(CHECKS, 0)
    first: str | None = None
    for example in evaluated:
        for check, why in (("verbatim", index.verbatim(example)), ("future", index.future(example)),
                           ("shared_queries", index.shared_query(example) if query_split else None)):
            if why is not None:
                counts[check] += 1
                first = first or f"{example.example_id} ({why})"
    return LeakAudit(len(evaluated), first=first, **counts)


def _history_key(example: Example) -> tuple[str, ...] | int | None:
    if example.history:
        return tuple(e.item_id or "" for e in example.history)
    return example.history_end


def _relevant(example: Example) -> list[str]:
    return [t.item_id for t in example.targets if t.relevant]


class _TrainIndex:
    """The train split, indexed for the three checks."""

    def __init__(self, train: Iterable[Example]) -> None:
        self.keys: set[tuple[object, ...]] = set()
        self.queries: set[str] = set()
        self.sequences: dict[str, list[tuple[str, ...]]] = defaultdict(list)  # explicit: history + target
        self.last_end: dict[str, int] = {}
        self.end_targets: set[tuple[str, int, str]] = set()
        for example in train:
            history = _history_key(example)
            for target in _relevant(example):
                self.keys.add((example.user_id, example.query or "", history, target))
            if example.query:
                self.queries.add(normalize_query(example.query))
            if example.user_id is None:
                continue
            if example.history or example.history_end is None:
                items = tuple(e.item_id or "" for e in example.history)
                self.sequences[example.user_id] += [(*items, target) for target in _relevant(example)]
            else:
                user, end = example.user_id, example.history_end
                self.last_end[user] = max(end, self.last_end.get(user, end))
                self.end_targets.update((user, end, target) for target in _relevant(example))

    def verbatim(self, example: Example) -> str | None:
        history = _history_key(example)
        for target in _relevant(example):
            if (example.user_id, example.query or "", history, target) in self.keys:
                return f"user {example.user_id}, target {target}: the same example is in train"
        return None

    def shared_query(self, example: Example) -> str | None:
        if example.query and normalize_query(example.query) in self.queries:
            return f"query {example.query!r} is also a train query"
        return None

    def future(self, example: Example) -> str | None:
        user = example.user_id
        if user is None:
            return None
        if example.history or example.history_end is None:
            return self._future_explicit(user, example)
        end = example.history_end
        if self.last_end.get(user, end) > end:
            return f"user {user} has a train example whose history reaches past this one's"
        for target in _relevant(example):
            if (user, end, target) in self.end_targets:
                return f"user {user}, target {target}: a train example at the same point has it"
        return None

    def _future_explicit(self, user: str, example: Example) -> str | None:
        history = tuple(e.item_id or "" for e in example.history)
        for target in _relevant(example):
            step = (*history[-1:], target)
            for sequence in self.sequences.get(user, ()):
                if _contains(sequence, step) and not _contains(history, sequence):
                    return f"user {user}, target {target}: a train row holds this step"
        return None


def _contains(sequence: tuple[str, ...], run: tuple[str, ...]) -> bool:
    """True when ``run`` stands contiguously in ``sequence``."""
    n = len(run)
    return any(sequence[i : i + n] == run for i in range(len(sequence) - n + 1))
