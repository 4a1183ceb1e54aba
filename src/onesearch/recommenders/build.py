"""Build a named recommender of a task from its train split (SASRec trained once, then cached).

Contract: ``Recommenders(dataset, directory, log).make(name)`` returns the named ``Searcher``
(``RECOMMENDERS``); the train and valid pairs are read once per instance. SASRec is trained into
``directory/sasrec`` (early-stopped on the valid split) unless a model is already there; the
caller keys ``directory`` by the data the models learn from (``Dataset.training_fingerprint``).
A task without train histories is one clear error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.errors import DataError
from onesearch.recommenders.counts import NextItemSearcher, PopularSearcher
from onesearch.recommenders.sasrec import SasrecSearcher, train_sasrec
from onesearch.recommenders.sequences import Sequences, TrainPair
from onesearch.types import Searcher

__all__ = ["RECOMMENDERS", "Recommenders"]

RECOMMENDERS = (PopularSearcher.name, NextItemSearcher.name, SasrecSearcher.name)


class Recommenders:
    """The sequential baselines of one task."""

    def __init__(self, dataset: Dataset, directory: Path, log: Callable[[str], None] = print) -> None:
        self.dataset, self.directory, self.log = dataset, Path(directory), log
        self.sequences = Sequences(dataset.items["item_id"].to_pylist())

    @cached_property
    def _pairs(self) -> dict[str, list[TrainPair]]:
        resolver = ContextResolver(self.dataset)
        examples = list(examples_of(self.dataset.examples))
        pairs = {split: self.sequences.pairs((e for e in examples if e.split == split), resolver) for split in ("train", "valid")}
        if not any(p.history for p in pairs["train"]):
            raise DataError(f"the {self.dataset.name} task has no train example with a history: the sequential recommenders need one")
        return pairs

    def make(self, name: str) -> Searcher:
        """The named recommender (see module docstring)."""
        popular = PopularSearcher(self.sequences, self._pairs["train"])
        if name == PopularSearcher.name:
            return popular
        if name == NextItemSearcher.name:
            return NextItemSearcher(self.sequences, self._pairs["train"])
        if name != SasrecSearcher.name:
            raise DataError(f"unknown recommender {name!r}: expected one of {', '.join(RECOMMENDERS)}")
        path = self.directory / "sasrec"
        if not (path / "manifest.json").is_file():
            train_sasrec(self.sequences, self._pairs["train"], self._pairs["valid"], path, log=self.log)
        return SasrecSearcher.load(path, self.sequences, popular)
