"""``SemanticIdCodebook``: fit, encode, disambiguate, save and load hierarchical item codes.

Contract: ``SemanticIdCodebook.fit(vectors, item_ids, config)`` learns residual k-means levels
and (optionally) OPQ sub-codes and gives every item exactly one full id: its code followed by a
**collision suffix**. Items sharing a code are ordered by the distance of their vector to the
code's reconstruction (closest first; ties by item id) and numbered 0, 1, 2 …; an item alone on
its code gets suffix 0. ``encode(vectors)`` codes new items or queries without refitting
(nearest centroid per level + OPQ), no suffix. ``save``/``load`` use a plain folder (``.npy`` +
``codebook.json``) written atomically with a manifest.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.semantic_ids.opq import Opq, fit_opq
from onesearch.semantic_ids.rq_kmeans import ResidualKMeans, fit_residual_kmeans

__all__ = ["KIND", "CodebookConfig", "Quantizers", "SemanticIdCodebook", "encoder_spec", "free_full_codes", "sample_rows"]

KIND = "semantic-id-codebook"


@dataclass(frozen=True)
class CodebookConfig:
    """Residual k-means sizes (coarse -> fine), last-level balancing and OPQ shape."""

    levels: tuple[int, ...] = (256, 64, 32)
    balanced_last: bool = True
    opq_subcodes: int = 2
    opq_bits: int = 8
    seed: int = 0

    @classmethod
    def for_catalog(cls, items: int) -> CodebookConfig:
        """Levels sized to a catalog of ``items``: about sqrt(n)/2 coarse codes (4-256), then a
        level leaving about 16 items per prefix (2-64), so the residual still carries detail for
        the two OPQ sub-codes (fitted only from 1,000 items up); no balanced level, which would
        memorise a handful of items per prefix and zero the residual."""
        coarse = int(min(256, max(4, 2 ** round(math.log2(max(2.0, math.sqrt(items) / 2))))))
        fine = int(min(64, max(2, 2 ** round(math.log2(max(1.0, items / coarse / 16))))))
        return cls(levels=(coarse, fine), balanced_last=False, opq_subcodes=2 if items >= 1_000 else 0)

    @property
    def code_sizes(self) -> tuple[int, ...]:
        """Values each code position can take (RQ levels, then OPQ sub-codes)."""
        return (*self.levels, *([2**self.opq_bits] * self.opq_subcodes))


class SemanticIdCodebook:
    """Fitted quantizers plus the explicit item <-> full-id maps."""

    def __init__(self, config: CodebookConfig, rq: ResidualKMeans, opq: Opq | None, item_ids: list[str], codes: np.ndarray, suffix: np.ndarray) -> None:
        self.config = config
        self.rq = rq
        self.opq = opq
        self.item_ids = item_ids
        self.codes = codes
        self.suffix = suffix
        self._row_of = {item: row for row, item in enumerate(item_ids)}
        self._items_of: dict[tuple[int, ...], list[str]] = {}
        for row in np.lexsort((suffix, *codes.T[::-1])):
            self._items_of.setdefault(tuple(int(v) for v in codes[row]), []).append(item_ids[row])

    @classmethod
    def fit(cls, vectors: np.ndarray, item_ids: Sequence[str], config: CodebookConfig = CodebookConfig(), extra: np.ndarray | None = None,
            sample: np.ndarray | None = None) -> SemanticIdCodebook:
        """Fit on item ``vectors`` (row i = ``item_ids[i]``); ``extra`` vectors (e.g. queries)
        join the OPQ training set, as OneSearch trains OPQ on query and item residuals together.
        ``sample`` (catalog rows, ascending; default all) fits the quantizers on those rows only;
        every item is then coded by ``Quantizers.assign`` (what a sharded build does per shard).
        A balanced last level is fitted on every item (its codes are capacity-constrained)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) != len(item_ids) or len(set(item_ids)) != len(item_ids):
            raise ValueError("need one vector per distinct item id")
        if not config.balanced_last:
            quantizers = Quantizers.fit(vectors if sample is None else vectors[sample], config, extra)
            codes, error = quantizers.assign(vectors)
            return cls.from_assignments(quantizers, list(item_ids), codes, error)
        rq, codes, residual = fit_residual_kmeans(vectors, config.levels, config.balanced_last, config.seed)
        opq = None
        if config.opq_subcodes:
            opq = fit_opq(_opq_train(rq, residual, extra), config.opq_subcodes, config.opq_bits, config.seed)
            codes = np.concatenate([codes, opq.encode(residual)], axis=1)
        error = np.linalg.norm(residual - (opq.decode(codes[:, len(config.levels):]) if opq else 0.0), axis=1)
        return cls(config, rq, opq, list(item_ids), codes, _suffixes(codes, error, list(item_ids)))

    @classmethod
    def from_assignments(cls, quantizers: Quantizers, item_ids: list[str], codes: np.ndarray, error: np.ndarray) -> SemanticIdCodebook:
        """The codebook of fitted ``quantizers`` and every item's assigned codes and quantization
        error (gathered from shards, in any order): the collision suffixes are numbered here."""
        return cls(quantizers.config, quantizers.rq, quantizers.opq, item_ids, codes, _suffixes(codes, error, item_ids))

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """Codes (no suffix) of new vectors: ``n x len(config.code_sizes)``."""
        codes, residual = self.rq.encode(np.asarray(vectors, dtype=np.float32).reshape(-1, self.rq.codebooks[0].shape[1]))
        if self.opq is None:
            return codes
        return np.concatenate([codes, self.opq.encode(residual)], axis=1)

    def prefix_reconstructions(self, codes: np.ndarray) -> list[np.ndarray]:
        """For each code position p, the vectors the codebook rebuilds from positions 0..p of
        ``codes`` (``n x positions``): the running sum of the residual k-means centroids, then of
        each OPQ sub-codeword rotated back (the other sub-vectors zero). The last one is the
        codebook's full reconstruction."""
        codes = np.asarray(codes, dtype=np.int64)
        dim = self.rq.codebooks[0].shape[1] if self.rq.codebooks else next(iter(self.rq.parent_codebooks.values())).shape[1]
        running = np.zeros((len(codes), dim), dtype=np.float32)
        out = []
        for level, codebook in enumerate(self.rq.codebooks):
            running = running + codebook[codes[:, level]]
            out.append(running)
        if self.rq.balanced_last:
            level = len(self.config.levels) - 1
            last = np.zeros_like(running)
            for row, code in enumerate(codes):
                local = self.rq.parent_codebooks.get(tuple(int(v) for v in code[:level]))
                if local is not None and code[level] < len(local):
                    last[row] = local[code[level]]
            running = running + last
            out.append(running)
        if self.opq is not None:
            width = dim // self.opq.subcodes
            for m in range(self.opq.subcodes):
                rotated = np.zeros((len(codes), dim), dtype=np.float32)
                rotated[:, m * width : (m + 1) * width] = self.opq.centroids[m][codes[:, len(self.config.levels) + m]]
                running = running + rotated @ self.opq.rotation
                out.append(running)
        return out

    def full_id(self, item_id: str) -> tuple[int, ...]:
        """The item's code followed by its collision suffix."""
        row = self._row_of[item_id]
        return (*(int(v) for v in self.codes[row]), int(self.suffix[row]))

    def items_of(self, code: Sequence[int]) -> list[str]:
        """Items whose code is ``code`` (no suffix), in suffix order; [] when none."""
        return list(self._items_of.get(tuple(int(v) for v in code), []))

    def save(self, directory: Path, metrics: dict | None = None, extra: Mapping[str, str] | None = None, attach: Mapping[str, Path] | None = None) -> None:
        """Write the codebook folder atomically; ``extra`` text files (name -> content) go along,
        and ``attach`` folders or files (name -> path) are copied in before the folder appears."""
        with atomic_directory(directory) as tmp:
            for name, path in (attach or {}).items():
                (shutil.copytree if Path(path).is_dir() else shutil.copy2)(path, tmp / name)
            for name, content in (extra or {}).items():
                (tmp / name).write_text(content)
            for level, codebook in enumerate(self.rq.codebooks):
                np.save(tmp / f"rq_level{level}.npy", codebook)
            if self.rq.parent_codebooks:
                parents = sorted(self.rq.parent_codebooks)
                np.save(tmp / "rq_last_parents.npy", np.array(parents, dtype=np.int64).reshape(len(parents), -1))
                np.save(tmp / "rq_last_offsets.npy", np.cumsum([0, *(len(self.rq.parent_codebooks[p]) for p in parents)]))
                np.save(tmp / "rq_last_centroids.npy", np.concatenate([self.rq.parent_codebooks[p] for p in parents]))
            if self.opq is not None:
                np.save(tmp / "opq_rotation.npy", self.opq.rotation)
                np.save(tmp / "opq_centroids.npy", self.opq.centroids)
            np.save(tmp / "codes.npy", self.codes)
            np.save(tmp / "suffix.npy", self.suffix)
            (tmp / "item_ids.json").write_text(json.dumps(self.item_ids, ensure_ascii=False))
            write_manifest(tmp, KIND, config=asdict(self.config), inputs={}, items=len(self.item_ids), metrics=metrics or {})

    @classmethod
    def load(cls, directory: Path) -> SemanticIdCodebook:
        """The codebook saved in ``directory`` (manifest kind checked)."""
        directory = Path(directory)
        manifest = read_manifest(directory, kind=KIND)
        raw = dict(manifest["config"])
        config = CodebookConfig(**{**raw, "levels": tuple(raw["levels"])})
        global_levels = len(config.levels) - (1 if config.balanced_last else 0)
        rq = ResidualKMeans(config.levels, [np.load(directory / f"rq_level{level}.npy") for level in range(global_levels)], config.balanced_last)
        if config.balanced_last:
            parents = np.load(directory / "rq_last_parents.npy")
            offsets = np.load(directory / "rq_last_offsets.npy")
            centroids = np.load(directory / "rq_last_centroids.npy")
            for i, parent in enumerate(parents):
                rq.parent_codebooks[tuple(int(v) for v in parent)] = centroids[offsets[i] : offsets[i + 1]]
        opq = Opq(np.load(directory / "opq_rotation.npy"), np.load(directory / "opq_centroids.npy")) if config.opq_subcodes else None
        item_ids = json.loads((directory / "item_ids.json").read_text())
        return cls(config, rq, opq, item_ids, np.load(directory / "codes.npy"), np.load(directory / "suffix.npy"))


@dataclass
class Quantizers:
    """Fitted residual k-means levels (no balanced level) and OPQ: what codes an item, alone."""

    config: CodebookConfig
    rq: ResidualKMeans
    opq: Opq | None

    @classmethod
    def fit(cls, vectors: np.ndarray, config: CodebookConfig, extra: np.ndarray | None = None) -> Quantizers:
        """Fit on ``vectors`` (a sample of the catalog, or all of it); ``extra`` joins OPQ's training set."""
        if config.balanced_last:
            raise ValueError("a balanced last level assigns codes under a capacity shared by a whole parent, so it cannot code items one shard at a time")
        rq, _, residual = fit_residual_kmeans(np.asarray(vectors, dtype=np.float32), config.levels, False, config.seed)
        opq = fit_opq(_opq_train(rq, residual, extra), config.opq_subcodes, config.opq_bits, config.seed) if config.opq_subcodes else None
        return cls(config, rq, opq)

    def assign(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes ``n x positions``, quantization error ``n``) of ``vectors``: nearest centroid per
        level, then OPQ; each row on its own, so shards may be coded anywhere."""
        codes, residual = self.rq.encode(np.asarray(vectors, dtype=np.float32))
        if self.opq is None:
            return codes, np.linalg.norm(residual, axis=1)
        sub = self.opq.encode(residual)
        return np.concatenate([codes, sub], axis=1), np.linalg.norm(residual - self.opq.decode(sub), axis=1)


def sample_rows(item_ids: Sequence[str], size: int, seed: int = 0) -> np.ndarray:
    """Ascending catalog rows of at most ``size`` items to fit the quantizers on: every row when
    the catalog is that small, else the rows whose seeded hash of the item id is smallest (the
    same items whatever the order or sharding of the catalog)."""
    if len(item_ids) <= size:
        return np.arange(len(item_ids))
    keys = np.array([int.from_bytes(hashlib.blake2b(f"{seed}\0{item}".encode(), digest_size=8).digest(), "big") for item in item_ids], dtype=np.uint64)
    return np.sort(np.argpartition(keys, size)[:size])


def _opq_train(rq: ResidualKMeans, residual: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
    """OPQ's training set: the items' residuals, plus those of ``extra`` vectors when given."""
    return residual if extra is None or not len(extra) else np.concatenate([residual, rq.encode(extra)[1]])


def _suffixes(codes: np.ndarray, error: np.ndarray, item_ids: list[str]) -> np.ndarray:
    """Rank of each item among the items sharing its code (by quantization error, then id)."""
    ids = np.array(item_ids, dtype=object)
    order = np.lexsort((ids.astype(str), error, *codes.T[::-1]))
    suffix = np.zeros(len(codes), dtype=np.int64)
    previous = None
    rank = 0
    for row in order:
        key = codes[row].tobytes()
        rank = rank + 1 if key == previous else 0
        suffix[row] = rank
        previous = key
    return suffix


def encoder_spec(directory: Path) -> str | None:
    """The spec of the text encoder a codebook folder was built with (``encoder.json``), if recorded."""
    path = Path(directory) / "encoder.json"
    return json.loads(path.read_text())["spec"] if path.is_file() else None


def free_full_codes(codes: np.ndarray, taken: set[tuple[int, ...]], suffixes: int) -> list[tuple[int, ...] | None]:
    """Full ids for new items coded ``codes`` (no suffix): each gets the smallest collision suffix
    below ``suffixes`` that no full id in ``taken`` (nor an earlier new item) holds; None when
    every suffix of its code is in use (a trained model can write no more items there)."""
    taken = set(taken)
    out: list[tuple[int, ...] | None] = []
    for code in np.asarray(codes).tolist():
        full = next((f for f in ((*code, s) for s in range(suffixes)) if f not in taken), None)
        if full is not None:
            taken.add(full)
        out.append(full)
    return out
