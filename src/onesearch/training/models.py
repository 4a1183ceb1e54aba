"""One entry point for any generative model folder: the anchored, planned model or the first
design's free-running code decoder, told apart by the manifest's kind.

Contract: ``Loader(items, beam, encoder, exhaustive)(directory)`` returns the folder's searcher
over the catalog ``items`` (the anchored model checks it is the catalog it was trained on);
``beam`` None means the model's own default (50 for the code decoder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from onesearch.artifacts import read_manifest
from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.training.anchored import KIND as ANCHORED
from onesearch.training.anchored import load_planned
from onesearch.training.checkpoint import load_searcher

__all__ = ["Loader"]

DECODER_BEAM = 50


@dataclass(frozen=True)
class Loader:
    """Loads generative model folders over one catalog with shared search settings."""

    items: pa.Table
    beam: int | None = None
    encoder: str | None = None
    exhaustive: bool | None = None

    def __call__(self, directory: Path) -> PlannedSearcher | GenerativeSearcher:
        if read_manifest(directory).get("kind") == ANCHORED:
            return load_planned(Path(directory), self.items, self.beam, self.exhaustive, self.encoder)
        return load_searcher(Path(directory), self.beam or DECODER_BEAM, self.encoder)
