"""The anchored model's folder: written once by training, read by eval, the CLI and the service.

Folder: ``model.safetensors`` + ``manifest.json`` (kind ``anchored-generative``: model config,
recipe, encoder, query encoder (the encoder itself, or the recipe's static one), codebook,
training summary) + ``codes.npy`` (full codes by catalog row) +
``item_ids.json`` + ``popularity.npy`` + ``transitions.npy`` (next-item counts, when the train
split has histories) + ``co_buyers.npz`` (who touched what in train, when the recipe reads it) + ``bm25/`` and ``ngrams/`` (the plan's indexes).

Contract: ``save_model`` writes a folder atomically; ``PlannedModel(folder)`` verifies it (kind,
weights hash, recipe fields, evidence width) and ``.searcher(items)`` assembles the searcher over
the catalog table it was trained on (or, with ``changed=True``, a changed one);
``.changed_searcher(base, change, tail)`` the one over its catalog changed by a ``RowChange``,
derived from the trained indexes (what a service does on every catalog change);
``Loader(items, ...)(folder)`` does both with shared search settings. A folder of the first
design's code decoder (kind ``generative-decoder``, retired) is refused with one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from safetensors.torch import load_file, save_file

from onesearch.artifacts import atomic_directory, file_sha256, file_stamp, read_manifest, write_manifest
from onesearch.decoding.dense import DenseTop
from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.tree import CodeTree
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.encoder import load_encoder
from onesearch.errors import DataError
from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.cobuy import CoBuyers
from onesearch.evidence.items import ItemTable, RowChange
from onesearch.evidence.plan import Planner
from onesearch.evidence.tokenize import Tokenizer
from onesearch.evidence.transitions import Transitions
from onesearch.generative.parts import LEXICAL_RANK, SearchParts
from onesearch.generative.recipe import AnchoredRecipe, evidence_columns, evidence_width
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import SemanticIdCodebook, free_full_codes
from onesearch.semantic_ids.query import TextCoder

__all__ = ["KIND", "Loader", "PlannedModel", "load_planned", "save_model"]

KIND = "anchored-generative"
RETIRED = "generative-decoder"  # the first design's free-running code decoder (see docs/history.md)
WEIGHTS = "model.safetensors"
CO_BUYERS = "co_buyers.npz"


def verified_manifest(directory: Path) -> dict[str, Any]:
    """The folder's manifest if it is an anchored model; one clear line otherwise."""
    if read_manifest(directory).get("kind") == RETIRED:
        raise DataError("this is a model of the first design (a free-running code decoder), which is retired: "
                        "train an anchored model with `onesearch train --task TASK`", path=directory)
    return read_manifest(directory, kind=KIND)


def load_planned(directory: Path, items_table: pa.Table, beam: int | None = None, exhaustive: bool | None = None, encoder: str | None = None) -> PlannedSearcher:
    """The searcher of a model folder over the catalog ``items_table`` it was trained on. It takes
    queries as they come: spelling correction is the shared step in front of every searcher
    (``evidence.understanding``)."""
    return PlannedModel(directory, encoder).searcher(items_table, beam, exhaustive)


@dataclass(frozen=True)
class Loader:
    """Loads model folders over one catalog with shared search settings (``beam`` None: the
    model's own)."""

    items: pa.Table
    beam: int | None = None
    encoder: str | None = None
    exhaustive: bool | None = None

    def __call__(self, directory: Path) -> PlannedSearcher:
        return load_planned(Path(directory), self.items, self.beam, self.exhaustive, self.encoder)


class PlannedModel:
    """A verified model folder that answers over its own catalog or, for a service, a changed one.

    ``searcher(items, changed=True)`` accepts items added, edited or removed since training:
    an item the model knows keeps its trained full code and vector; a new item is encoded with
    the model's encoder, coded through the codebook's encode path (keyword-fused, like every
    item) and takes the smallest free collision suffix of its code, so the anchored model can
    write it at once; its nodes are anchored on the codebook's reconstructions like the trained
    ones. The lexical indexes are rebuilt over the changed texts; popularity and next-item counts
    follow the item ids (new items have none). Without ``changed`` another catalog is refused.
    """

    def __init__(self, directory: Path, encoder: str | None = None) -> None:
        self.directory = directory = Path(directory)
        manifest = verified_manifest(directory)
        self.weights_sha256: str = manifest["weights_sha256"]
        if file_sha256(directory / WEIGHTS) != self.weights_sha256:
            raise DataError("the weights file does not match the manifest's hash (damaged or replaced)", path=directory / WEIGHTS)
        saved = manifest["config"]["recipe"]
        unknown = sorted(set(saved) - {f.name for f in fields(AnchoredRecipe)})
        if unknown:
            raise DataError(f"the model was trained with recipe field(s) {', '.join(unknown)} that this version lacks (retrain it)", path=directory)
        self.recipe = AnchoredRecipe.saved(saved)
        self.beam: int = manifest.get("beam") or self.recipe.beam  # the served beam training picked on valid (older folders: the recipe's)
        self.page_beam: int | None = manifest.get("page_beam")  # the beam of a result page, picked the same way (older folders: none, ``beam``)
        raw = manifest["config"]["model"]
        self.config = AnchoredConfig(**{**raw, "nodes": tuple(raw["nodes"])})
        if self.config.evidence != evidence_width(self.recipe):
            raise DataError(f"the model reads {self.config.evidence} evidence columns, this version plans {evidence_width(self.recipe)} (retrain it)", path=directory)
        self.weights = {k: v.float() for k, v in load_file(str(directory / WEIGHTS)).items()}
        self.bm25 = Bm25Index.load(directory / "bm25")
        self.ngrams = Bm25Index.load(directory / "ngrams") if (directory / "ngrams").is_dir() else None
        self.ids: list[str] = json.loads((directory / "item_ids.json").read_text())
        self.codes = np.load(directory / "codes.npy")
        self.popularity = np.load(directory / "popularity.npy")
        self.transitions = Transitions.from_array(np.load(directory / "transitions.npy")) if (directory / "transitions.npy").is_file() else None
        self.co_buyers = CoBuyers.load(directory / CO_BUYERS) if self.recipe.co_buy and (directory / CO_BUYERS).is_file() else None
        self.index = Path(manifest["index"])
        self.encoder_spec = encoder or manifest["encoder"]
        self.query_spec = encoder or manifest.get("query_encoder") or manifest["encoder"]
        self._new = _new_items(self.encoder_spec, self.index)
        self._query_encoder: Any = None
        self._trained: tuple[pa.Table, tuple[ItemTable, Planner]] | None = None  # (catalog table, its rows and planner)
        self._vectors: np.ndarray | None = None
        self._codes_tree: CodeTree | None = None
        self._dense: DenseTop | None = None

    @property
    def text_encoder(self) -> Any:
        return self._new.encoder

    @property
    def query_encoder(self) -> Any:
        """The encoder of query texts: the recipe's static encoder, or the item encoder itself."""
        if self._query_encoder is None:
            self._query_encoder = self.text_encoder if self.query_spec == self.encoder_spec else load_encoder(self.query_spec)
        return self._query_encoder

    def searcher(self, items_table: pa.Table, beam: int | None = None, exhaustive: bool | None = None, changed: bool = False) -> PlannedSearcher:
        """The searcher over ``items_table`` (see class docstring)."""
        base = self._base(items_table)
        if base is not None:
            model = AnchoredDecoder(self.config)
            model.load_state_dict(self.weights)
            return self._searcher(model, self.codes, self._tree(), base[1], beam, exhaustive)
        if not changed:
            raise DataError("the catalog differs from the one this model was trained on (retrain it)", path=self.directory)
        items = ItemTable.from_items(items_table, self.bm25.tokenizer)

        def planner(popularity: np.ndarray, transitions: Transitions | None, co_buyers: CoBuyers | None) -> Planner:
            ngrams = Bm25Index.build(items.texts, self.ngrams.tokenizer) if self.ngrams is not None else None
            return Planner(items, Bm25Index.build(items.texts, self.bm25.tokenizer), popularity, self.recipe.plan_depth, ngrams, transitions, self.recipe.preceders, co_buyers)

        old_row = {item: row for row, item in enumerate(self.ids)}
        return self._searcher(*self._changed(items, [old_row.get(item, -1) for item in items.ids], planner), beam, exhaustive)

    def changed_searcher(self, base_items: pa.Table, change: RowChange, tail_items: pa.Table, beam: int | None = None) -> PlannedSearcher:
        """The searcher over the catalog ``base_items`` changed by ``change`` (tail rows
        ``tail_items``, ``ServiceState.split``). When ``base_items`` is this model's own catalog,
        the changed catalog's rows and lexical indexes are derived from the trained ones
        (``Planner.changed``), so a change costs about its own size; otherwise they are rebuilt."""
        base = self._base(base_items)
        if base is None:
            return self.searcher(change.table(base_items, tail_items), beam, changed=True)
        table, planner = base
        if not change.tail and len(change.kept) == len(table):
            return self.searcher(base_items, beam)
        items = table.changed(change, tail_items, self.bm25.tokenizer)
        tail_known = [table.row_of.get(item, -1) for item in items.ids[len(change.kept) :]]  # the base table's rows are the trained rows
        known = np.concatenate([change.kept, np.array(tail_known, dtype=np.int64)])
        return self._searcher(*self._changed(items, known, lambda *counts: planner.changed(items, change, *counts)), beam)

    @property
    def takes_changes(self) -> bool:
        """True when a changed catalog can be served (the nodes are anchored on item vectors, not learned)."""
        return self.config.anchored and not self.config.learn_nodes

    def prepare_changes(self, items_table: pa.Table) -> None:
        """Load now what the first change of the catalog ``items_table`` would (the item encoder,
        the codebook and its keyword coder; an older folder's lexical mean lengths), so that no
        change pays for it (nothing for a model that takes no changes or another catalog)."""
        base = self._base(items_table)
        if self.takes_changes and base is not None:
            self._new.prepare()
            base[1].prepare_changes()

    def trained_on(self, items_table: pa.Table) -> bool:
        """True when ``items_table`` is this model's own catalog (rows in its order)."""
        return self._base(items_table) is not None

    def _base(self, items_table: pa.Table) -> tuple[ItemTable, Planner] | None:
        """This model's own catalog's rows and planner, built once; None when ``items_table`` is another catalog."""
        if self._trained is None or self._trained[0] is not items_table:
            items = _item_table(items_table, self.bm25.tokenizer)
            if items.ids != self.ids:
                return None
            self._trained = (items_table, (items, Planner(items, self.bm25, self.popularity, self.recipe.plan_depth, self.ngrams, self.transitions, self.recipe.preceders,
                                                               self.co_buyers)))
        return self._trained[1]

    def _searcher(self, model: AnchoredDecoder, codes: np.ndarray, tree: CodeTree, planner: Planner, beam: int | None, exhaustive: bool | None = None) -> PlannedSearcher:
        parts = SearchParts(planner.items, codes, tree, planner, self.recipe)
        return PlannedSearcher(model, planner.items.ids, codes, lambda texts: self.query_encoder.encode(texts, "query"), parts.plan, parts.static(), beam or self.beam,
                               exhaustive, self.recipe.dense_plan, LEXICAL_RANK, None, evidence_columns(self.recipe), self.recipe.behaviour_query, tree,
                               self._scan(), None if beam else self.page_beam)  # no rewrite: the shared step corrects in front; a beam asked for serves every list

    def _changed(self, items: ItemTable, known: list[int] | np.ndarray, planner: Callable[[np.ndarray, Transitions | None, CoBuyers | None], Planner]) -> tuple[AnchoredDecoder, np.ndarray, CodeTree, Planner]:
        """Model, full codes, their trie and planner over a changed catalog whose row r is trained row
        ``known[r]`` (-1: an item the model never saw, coded and anchored now); ``planner`` makes
        the planner from the changed popularity, next-item counts and co-buyers."""
        if not self.takes_changes:
            raise DataError("this model learned its own item vectors, so it cannot take a changed catalog (retrain it)", path=self.directory)
        known_rows = np.asarray(known, dtype=np.int64)
        kept, new = np.flatnonzero(known_rows >= 0), np.flatnonzero(known_rows < 0)
        trained_vectors = self._trained_vectors()
        vectors = np.zeros((len(items), trained_vectors.shape[1]), dtype=np.float32)
        codes = np.zeros((len(items), self.codes.shape[1]), dtype=np.int64)
        vectors[kept], codes[kept] = trained_vectors[known_rows[kept]], self.codes[known_rows[kept]]
        if len(new):
            fresh, prefixes = self._new.coded([items.texts[row] for row in new])
            taken = _taken(codes[kept], prefixes)
            vectors[new], codes[new] = fresh, np.array(free_full_codes(prefixes, taken, len(self.ids) + len(new) + 1), dtype=np.int64)
        tree = CodeTree(codes)
        model = AnchoredDecoder(replace(self.config, nodes=tree.counts), [torch.from_numpy(v) for v in self._node_vectors(codes, vectors, tree, known_rows)])
        model.load_state_dict({k: v for k, v in self.weights.items() if not k.startswith(("base", "delta"))}, strict=False)
        popularity = np.where(known_rows >= 0, self.popularity[np.maximum(known_rows, 0)], 0.0).astype(np.float32)
        row = np.full(len(self.ids), -1, dtype=np.int64)
        row[known_rows[kept]] = kept
        co_buyers = self.co_buyers.remapped(row, len(items)) if self.co_buyers is not None else None
        return model, codes, tree, planner(popularity, self._transitions(row), co_buyers)

    def _node_vectors(self, codes: np.ndarray, vectors: np.ndarray, tree: CodeTree, known: np.ndarray) -> list[np.ndarray]:
        """Per depth, the changed tree's node vectors (``parts.node_vectors``): a node the trained
        tree has keeps its trained vector, only the new items' prefixes are reconstructed from
        the codebook, and the last depth holds the items' own ``vectors``."""
        kept, new = np.flatnonzero(known >= 0), np.flatnonzero(known < 0)
        fresh = self._new.codebook.prefix_reconstructions(codes[new, :-1]) if len(new) else []
        trained_paths = self._tree().paths[known[kept]]
        out = []
        for depth in range(tree.depth - 1):
            nodes = np.zeros((tree.counts[depth], vectors.shape[1]), dtype=np.float32)
            if len(new):
                nodes[tree.paths[new, depth]] = fresh[depth]
            old_of_node = np.full(tree.counts[depth], -1, dtype=np.int64)
            old_of_node[tree.paths[kept, depth]] = trained_paths[:, depth]
            has = np.flatnonzero(old_of_node >= 0)
            nodes[has] = self.weights[f"base{depth}"].numpy()[old_of_node[has]]
            out.append(nodes)
        last = np.zeros((tree.counts[-1], vectors.shape[1]), dtype=np.float32)
        last[tree.paths[:, -1]] = vectors
        return [*out, last]

    def _scan(self) -> DenseTop | None:
        """The dense plan's scan trained once on the trained items' vectors, reused by every
        searcher of this model and of any model loaded with the same weights in this process
        (None when the recipe plans no dense items)."""
        if self._dense is None and self.recipe.dense_plan:
            vectors = self.weights[f"base{len(self.config.nodes) - 1}"].numpy()
            self._dense = _shared(("dense scan", self.weights_sha256), lambda: DenseTop(vectors))  # a reload of the same weights trains none
        return self._dense

    def _tree(self) -> CodeTree:
        """The trie of the trained catalog's codes (built once)."""
        if self._codes_tree is None:
            self._codes_tree = CodeTree(self.codes)
        return self._codes_tree

    def _trained_vectors(self) -> np.ndarray:
        """The trained items' own (last-depth) node vectors, by trained row."""
        if self._vectors is None:
            self._vectors = self.weights[f"base{len(self.config.nodes) - 1}"].numpy()[self._tree().paths[:, -1]]
        return self._vectors

    def _transitions(self, row: np.ndarray) -> Transitions | None:
        """The next-item counts with trained row r mapped to the changed catalog's row ``row[r]`` (-1: gone)."""
        if self.transitions is None:
            return None
        pairs = self.transitions.to_array()
        mapped = np.stack([row[pairs[:, 0]], row[pairs[:, 1]], pairs[:, 2]], axis=1) if len(pairs) else pairs.reshape(0, 3)
        return Transitions.from_array(mapped[(mapped[:, 0] >= 0) & (mapped[:, 1] >= 0)].astype(np.int64))


class _NewItems:
    """What writes new item texts into a codebook: the item encoder, the codebook, its keyword
    coder (the keyword pool embedded once, on first use) and the texts coded so far. One per
    encoder and codebook in a process, shared by every model folder loaded with them (a reload
    pays none of it again)."""

    def __init__(self, encoder_spec: str, index: Path) -> None:
        self.encoder_spec, self.index = encoder_spec, index
        self._encoder: Any = None
        self._codebook: SemanticIdCodebook | None = None
        self._coder: TextCoder | None = None
        self._fresh: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # text -> (vector, code without suffix)

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = load_encoder(self.encoder_spec)
        return self._encoder

    @property
    def codebook(self) -> SemanticIdCodebook:
        if self._codebook is None:
            self._codebook = SemanticIdCodebook.load(self.index)
        return self._codebook

    def coded(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and codebook codes (no suffix) of new item texts, each text encoded once."""
        missing = sorted({text for text in texts if text not in self._fresh})
        if missing:
            self.prepare()
            vectors = np.asarray(self.encoder.encode(missing, "item"), dtype=np.float32)
            self._fresh.update(zip(missing, zip(vectors, self._coder.codes(missing, vectors))))  # type: ignore[union-attr]
        return np.stack([self._fresh[text][0] for text in texts]), np.stack([self._fresh[text][1] for text in texts])

    def prepare(self) -> None:
        """Load the item encoder, the codebook and its keyword coder now (once)."""
        if self._coder is None:
            self._coder = TextCoder.load(self.index, self._keyword_vectors)
        _ = self.codebook  # the property loads it once

    def _keyword_vectors(self, words: list[str]) -> np.ndarray:
        """The keyword pool's vectors: read from the embedding cache the codebook was built from
        (beside its folder) where it has them, encoded otherwise (the cache is not written)."""
        return encode_cached(self.encoder, words, "item", self.index.parent / "embeddings", keep=False)


_NEW_ITEMS: dict[tuple[str, str, tuple[int, int] | None, tuple[int, int] | None], _NewItems] = {}


_SHARED: dict[tuple, Any] = {}  # what models loaded in one process share, by key (a few at most)
SHARED_KEPT = 8


def _shared(key: tuple, make: Callable[[], Any]) -> Any:
    """The value kept under ``key``, made now when there is none (the oldest is dropped past ``SHARED_KEPT``)."""
    if key not in _SHARED:
        if len(_SHARED) >= SHARED_KEPT:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[key] = make()
    return _SHARED[key]


def _new_items(encoder_spec: str, index: Path) -> _NewItems:
    """The process's ``_NewItems`` of an encoder and a codebook folder (a new one when either was rewritten)."""
    key = ("new items", encoder_spec, str(index), file_stamp(Path(encoder_spec) / "model.safetensors"), file_stamp(index / "manifest.json"))
    return _shared(key, lambda: _NewItems(encoder_spec, index))


def _taken(codes: np.ndarray, prefixes: np.ndarray) -> set[tuple[int, ...]]:
    """The full codes among ``codes`` whose code without suffix is one of ``prefixes``: the only
    ones a new item's suffix can collide with (a column-wise filter first, so only a few rows
    become Python tuples: a whole catalog's would hold the GIL for a tenth of a second or more)."""
    width = prefixes.shape[1]
    near = np.ones(len(codes), dtype=bool)
    for column in range(width):
        near &= np.isin(codes[:, column], prefixes[:, column])
    wanted = set(map(tuple, np.asarray(prefixes).tolist()))
    return {code for code in map(tuple, codes[near].tolist()) if code[:width] in wanted}


def _item_table(items_table: pa.Table, tokenizer: Tokenizer) -> ItemTable:
    """The rows of ``items_table``, analysed once per process and language: models loaded over
    one catalog (a reload, a replaced model) share them and what is derived from them."""
    held, table = _shared(("item table", id(items_table), tokenizer.language), lambda: (items_table, ItemTable.from_items(items_table, tokenizer)))
    if held is not items_table:  # another table now has that id
        _SHARED.pop(("item table", id(items_table), tokenizer.language))
        return _item_table(items_table, tokenizer)
    return table


def save_model(out: Path, model: AnchoredDecoder, parts: SearchParts, bm25: Bm25Index, ngrams: Bm25Index | None, popularity: np.ndarray,
               transitions: Transitions | None, encoder: str, codebook_dir: Path, summary: dict[str, Any], query_encoder: str | None = None,
               co_buyers: CoBuyers | None = None) -> None:
    """Write the model folder ``out`` atomically (see module docstring)."""
    with atomic_directory(out) as tmp:
        save_file({k: v.detach().half().contiguous() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS))
        np.save(tmp / "codes.npy", parts.codes)
        np.save(tmp / "popularity.npy", popularity)
        if transitions is not None:
            np.save(tmp / "transitions.npy", transitions.to_array())
        if co_buyers is not None:
            co_buyers.save(tmp / CO_BUYERS)
        (tmp / "item_ids.json").write_text(json.dumps(parts.items.ids, ensure_ascii=False))
        bm25.save(_mkdir(tmp / "bm25"))
        if ngrams is not None:
            ngrams.save(_mkdir(tmp / "ngrams"))
        write_manifest(tmp, KIND, config={"model": asdict(model.config), "recipe": asdict(parts.recipe)}, inputs={},
                       weights_sha256=file_sha256(tmp / WEIGHTS), encoder=encoder, query_encoder=query_encoder or encoder, index=str(codebook_dir), **summary)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
