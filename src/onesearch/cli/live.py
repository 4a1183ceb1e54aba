"""The demo's live build: serve as soon as the first searcher exists, build the rest behind it.

Contract: ``LiveBuild(dataset, bundle, data_root, log)`` owns a ``BuildBoard`` of
``STEPS`` and ``run(publish)`` builds them in order — BM25 (seconds), the dense encoder
(fine-tuned when the shop has query logs, else the shipped one: skipped), the item vectors, the
cascade's rankers (skipped without query logs: the cascade then ranks recall by RRF), the codebook,
the generative model, and last the service (the bundle's ``Deployment`` over the cached parts) —
calling ``publish(engine, deployment)`` each time a searcher becomes servable: bm25 first, then
dense, then the cascade, then every searcher with the admin API (``deployment`` is None before).
Everything lands in the shared cache, so a second run finds each step done at once. A step that
fails marks itself failed with its one-line error, every later step skipped, and stops: what was
published keeps serving. ``run`` returns the deployment, or None when a step failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from onesearch.cascade.build import BuildSettings, cascade_directory, dense_encoder, encode_catalog, has_labels, lexical_index, train_rankers, unranked_cascade
from onesearch.cascade.engine import Cascade
from onesearch.cascade.searchers import Bm25Searcher, make_searcher
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset
from onesearch.cli.train import ensure_codebook, ensure_model
from onesearch.evidence.understanding import QueryUnderstanding
from onesearch.deploy.board import BuildBoard
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment, partial_engine
from onesearch.serving.engine import Engine

__all__ = ["STEPS", "LiveBuild"]

STEPS = ("BM25", "dense encoder", "item vectors", "cascade rankers", "codebook", "generative model", "service")
Publish = Callable[[Engine, Deployment | None], None]


class LiveBuild:
    """The staged build of one bundle (see module docstring)."""

    def __init__(self, dataset: Dataset, bundle: Bundle, data_root: Path, log: Callable[[str], None] = print) -> None:
        self.dataset = dataset
        self.bundle = bundle
        self.key = dataset.training_fingerprint()
        self.directory = cascade_directory(Path(bundle.cache), bundle.task, self.key)
        self.data_root = data_root
        self.log = log
        self.board = BuildBoard(STEPS, log)
        self.logs = has_labels(dataset)
        self.settings = BuildSettings(encoder=bundle.encoder)
        self.resolver = ContextResolver(dataset)
        self.understand = QueryUnderstanding.for_items(dataset.items, bundle.spelling)

    def run(self, publish: Publish) -> Deployment | None:
        """Build every step, publishing engines as they become servable (see module docstring)."""
        step = STEPS[0]
        try:
            items, bm25 = self._step(step, lambda: lexical_index(self.dataset, self.directory, self._quiet))
            publish(partial_engine(self.dataset.items, self.resolver, {"bm25": Bm25Searcher(items, bm25)}, self.understand), None)
            step = "dense encoder"
            if self.settings.encoder == "dual":
                self._step(step, lambda: dense_encoder(self.dataset, self.directory, self.settings, self._quiet, self._advance(step)))
            else:
                self.board.skip(step, f"using the shipped encoder {self.settings.encoder}")
            step = "item vectors"
            cascade = self._step(step, self._cascade)
            publish(partial_engine(self.dataset.items, self.resolver, {name: make_searcher(name, cascade) for name in ("bm25", "dense")}, self.understand), None)
            step = "cascade rankers"
            if self.logs:
                self._step(step, lambda: train_rankers(cascade, self.dataset, self.directory, self.settings, self._quiet, self._advance(step)))
            else:
                self.board.skip(step, "no logs yet: the cascade ranks its recall by reciprocal-rank fusion")
            publish(partial_engine(self.dataset.items, self.resolver, {name: make_searcher(name, cascade) for name in ("bm25", "dense", "cascade")}, self.understand), None)
            step = "codebook"
            encoder = None if self.settings.encoder == "dual" else self.settings.encoder
            self._step(step, lambda: ensure_codebook(self.dataset, self.directory, encoder, self._quiet))
            step = "generative model"
            self._step(step, lambda: ensure_model(self.dataset, self.bundle.task, self.key, Path(self.bundle.cache), [],
                                                  self.settings.encoder, self._quiet, self._advance(step)))
            step = "service"
            deployment = self._step(step, lambda: Deployment.open(self.bundle, self.data_root, self._quiet))
        except Exception as error:  # one line on the page and in the terminal; what is served stays
            self.board.fail(step, f"{type(error).__name__}: {error}")
            for later in STEPS[STEPS.index(step) + 1 :]:
                self.board.skip(later, f"needs {step}")
            return None
        publish(deployment.engine, deployment)
        return deployment

    def _step(self, name: str, build: Callable[[], object]):  # type: ignore[no-untyped-def]
        self.board.start(name)
        result = build()
        self.board.finish(name)
        return result

    def _cascade(self) -> Cascade:
        catalog = encode_catalog(self.dataset, self.directory, self.settings, self._quiet, self._advance("item vectors"))
        return unranked_cascade(self.dataset, self.directory, catalog, self.settings, self._quiet)

    def _advance(self, step: str) -> Callable[[int, int], None]:
        return lambda done, total: self.board.advance(step, done, total)

    def _quiet(self, message: str) -> None:
        """The builders' own lines become the running step's note (the board reports progress)."""
        self.board.note(message)
