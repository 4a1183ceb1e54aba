"""``onesearch search``: one query (and optionally a user's recent behaviour) through a trained
generative model — the anchored, planned model (which reads its catalog: ``--task``) or the
first design's code decoder — printed as ranked real items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from onesearch.artifacts import read_manifest
from onesearch.catalog import registry
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.decoding.planned import PlannedSearcher
from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.errors import DataError
from onesearch.evidence.understanding import QueryUnderstanding
from onesearch.training.anchored import KIND as ANCHORED
from onesearch.training.checkpoint import load_searcher
from onesearch.training.models import DECODER_BEAM, Loader
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

__all__ = ["search_command"]


def search_command(
    query: Annotated[str, typer.Argument(help="The query text.")],
    model: Annotated[Path, typer.Option("--model", help="Model directory from `onesearch train`.")],
    index: Annotated[Path | None, typer.Option("--index", help="Codebook directory (default: the one the model was trained with).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Results to print.")] = 10,
    beam: Annotated[int | None, typer.Option("--beam", min=1, help="Beam size (default: the model's own; 50 for the code decoder).")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Past behaviour TYPE:ITEM_ID (click, cart or order), oldest first; repeatable.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="The data set whose catalog the model searches (needed by anchored models) and whose titles are printed.")] = None,
    spelling: Annotated[bool, typer.Option("--spelling/--no-spelling", help="Correct the query's spelling against the --task catalog first (the shared query-understanding step).")] = True,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Generate the best items for QUERY; one JSON line per hit (rank, item_id, score[, title])."""
    items = None if task is None else registry.load(task, data_root(data), source=source).items
    history = tuple(_event(text, seq) for seq, text in enumerate(event or []))
    understand = QueryUnderstanding.for_items(items, spelling) if items is not None else QueryUnderstanding(None)
    request = understand.requests([SearchRequest(query, UserContext("cli-user" if history else None, {}, history))])[0]
    searcher = _searcher(model, items, beam, k, index)
    titles = None if items is None else dict(zip(items["item_id"].to_pylist(), items["title"].to_pylist()))
    for rank, hit in enumerate(searcher.search([request], k)[0], start=1):
        row = {"rank": rank, "item_id": hit.item_id, "score": round(hit.score, 4)}
        if titles is not None:
            row["title"] = titles.get(hit.item_id)
        typer.echo(json.dumps(row, ensure_ascii=False))


def _event(text: str, seq: int) -> HistoryEvent:
    kind, _, item = text.partition(":")
    if kind not in ("click", "cart", "order") or not item:
        raise DataError(f"--event must be TYPE:ITEM_ID with TYPE click, cart or order, got {text!r}")
    return HistoryEvent(item, InteractionType(kind), seq)


def _searcher(model: Path, items: pa.Table | None, beam: int | None, k: int, index: Path | None) -> PlannedSearcher | GenerativeSearcher:
    """The folder's searcher: an anchored model over ``items`` (its catalog), else the code decoder."""
    if read_manifest(model).get("kind") == ANCHORED:
        if items is None:
            raise DataError("an anchored model searches the catalog it was trained on: give its --task (and --data or --source)", path=model)
        return Loader(items, beam)(model)
    return load_searcher(model, max(beam or DECODER_BEAM, k), index=index)
