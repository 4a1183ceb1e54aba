"""What the anchored model and its searcher are built on, shared by training and loading.

Contract: ``SearchParts`` holds one catalog's items, full codes, code tree, planner and recipe and
answers the plan and static evidence the recipe's model reads; ``node_vectors`` anchors each
depth's nodes on the codebook's prefix reconstructions (the last depth on the items' own vectors);
``aligned_codes`` reads a codebook's full codes in catalog row order.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from onesearch.decoding.tree import CodeTree
from onesearch.errors import DataError
from onesearch.evidence.items import ItemTable
from onesearch.evidence.plan import EVIDENCE, LEXICAL, USER, Plan, Planner
from onesearch.evidence.spelling import Speller
from onesearch.generative.recipe import AnchoredRecipe
from onesearch.semantic_ids.codebook import SemanticIdCodebook
from onesearch.types import SearchRequest

__all__ = ["LEXICAL_RANK", "SearchParts", "aligned_codes", "node_vectors"]

LEXICAL_RANK = EVIDENCE.index("bm25_reciprocal_rank")


@dataclass
class SearchParts:
    """Items, codes, tree, planner and recipe of one catalog; ``speller`` corrects training
    queries (a served searcher has none: the shared query-understanding step corrects in front)."""

    items: ItemTable
    codes: np.ndarray
    tree: CodeTree
    planner: Planner
    recipe: AnchoredRecipe
    speller: Speller | None = None

    @classmethod
    def with_speller(cls, items: ItemTable, codes: np.ndarray, planner: Planner, recipe: AnchoredRecipe) -> SearchParts:
        """Parts whose speller is the recipe's (rebuilt from the item texts, not stored)."""
        return cls(items, codes, CodeTree(codes), planner, recipe, Speller.from_texts(items.texts) if recipe.spelling else None)

    def correct(self, query: str) -> str:
        """The query with its misspelled words corrected (unchanged without a speller)."""
        return self.speller.correct(query) if self.speller is not None else query

    def corrected(self, requests: list[SearchRequest]) -> list[SearchRequest]:
        return [replace(r, query=self.correct(r.query)) for r in requests]

    def plan(self, request: SearchRequest, extra: np.ndarray | None = None, exclude: Collection[tuple[int, int]] = ()) -> Plan:
        """The request's plan with the recipe's switched-off evidence columns zeroed; the ``extra``
        rows (the dense plan's) get the same evidence columns when the recipe says ``dense_evidence``."""
        plan = self.planner.plan(request, exclude, extra if self.recipe.dense_evidence else None)
        off = [i for i, name in enumerate(EVIDENCE) if (name in LEXICAL and not self.recipe.lexical_plan) or (name in USER and not self.recipe.behaviour_plan)]
        plan.features[:, off] = 0.0
        return plan

    def static(self, rows: np.ndarray | None = None, exclude: frozenset[int] = frozenset()) -> np.ndarray:
        static = self.planner.static(rows, exclude)
        return static if self.recipe.behaviour_plan else np.zeros_like(static)


def aligned_codes(codebook: SemanticIdCodebook, item_ids: list[str], path: Path) -> np.ndarray:
    """Full codes (code + suffix) in catalog row order."""
    if sorted(codebook.item_ids) != sorted(item_ids):
        raise DataError("the codebook codes another catalog (rebuild it for this task)", path=path)
    full = np.concatenate([codebook.codes, codebook.suffix[:, None]], axis=1)
    row = {item: i for i, item in enumerate(codebook.item_ids)}
    return full[[row[item] for item in item_ids]]


def node_vectors(codebook: SemanticIdCodebook, codes: np.ndarray, item_vectors: np.ndarray, tree: CodeTree) -> list[np.ndarray]:
    """Per depth, each node's vector: the codebook's prefix reconstruction, and at the last depth
    (the collision suffix) the item's own vector."""
    per_depth = [*codebook.prefix_reconstructions(codes[:, :-1]), np.asarray(item_vectors, dtype=np.float32)]
    out = []
    for depth, vectors in enumerate(per_depth):
        nodes = np.zeros((tree.counts[depth], vectors.shape[1]), dtype=np.float32)
        nodes[tree.paths[:, depth]] = vectors
        out.append(nodes)
    return out
