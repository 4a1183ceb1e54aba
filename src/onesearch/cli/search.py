"""``onesearch search``: one query (and optionally a user's recent behaviour) through a trained
generative model over its task's catalog, printed as ranked real items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from onesearch.catalog import registry
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.errors import DataError
from onesearch.evidence.understanding import QueryUnderstanding
from onesearch.generative.folder import Loader
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

__all__ = ["search_command"]


def search_command(
    query: Annotated[str, typer.Argument(help="The query text.")],
    model: Annotated[Path, typer.Option("--model", help="Model directory from `onesearch train`.")],
    task: Annotated[str, typer.Option("--task", help="The data set whose catalog the model was trained on (its titles are printed).")],
    k: Annotated[int, typer.Option("--k", min=1, help="Results to print.")] = 10,
    beam: Annotated[int | None, typer.Option("--beam", min=1, help="Beam size (default: the model's own).")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Past behaviour TYPE:ITEM_ID (click, cart or order), oldest first; repeatable.")] = None,
    spelling: Annotated[bool, typer.Option("--spelling/--no-spelling", help="Correct the query's spelling against the --task catalog first (the shared query-understanding step).")] = True,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Generate the best items for QUERY; one JSON line per hit (rank, item_id, score, title)."""
    items = registry.load(task, data_root(data), source=source).items
    history = tuple(_event(text, seq) for seq, text in enumerate(event or []))
    understand = QueryUnderstanding.for_items(items, spelling)
    request = understand.requests([SearchRequest(query, UserContext("cli-user" if history else None, {}, history))])[0]
    searcher = Loader(items, beam)(model)
    titles = dict(zip(items["item_id"].to_pylist(), items["title"].to_pylist()))
    for rank, hit in enumerate(searcher.search([request], k)[0], start=1):
        row = {"rank": rank, "item_id": hit.item_id, "score": round(hit.score, 4), "title": titles.get(hit.item_id)}
        typer.echo(json.dumps(row, ensure_ascii=False))


def _event(text: str, seq: int) -> HistoryEvent:
    kind, _, item = text.partition(":")
    if kind not in ("click", "cart", "order") or not item:
        raise DataError(f"--event must be TYPE:ITEM_ID with TYPE click, cart or order, got {text!r}")
    return HistoryEvent(item, InteractionType(kind), seq)

