"""``onesearch search``: one query (and optionally a user's recent behaviour) through a trained
generative model, printed as ranked real items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from onesearch.catalog import registry
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.errors import DataError
from onesearch.training.checkpoint import load_searcher
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

__all__ = ["search_command"]


def search_command(
    query: Annotated[str, typer.Argument(help="The query text.")],
    model: Annotated[Path, typer.Option("--model", help="Model directory from `onesearch train`.")],
    index: Annotated[Path | None, typer.Option("--index", help="Codebook directory (default: the one the model was trained with).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Results to print.")] = 10,
    beam: Annotated[int, typer.Option("--beam", min=1, help="Beam size (at least --k).")] = 50,
    event: Annotated[list[str] | None, typer.Option("--event", help="Past behaviour TYPE:ITEM_ID (click, cart or order), oldest first; repeatable.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="Print titles from this data set's catalog.")] = None,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Generate the best items for QUERY; one JSON line per hit (rank, item_id, score[, title])."""
    searcher = load_searcher(model, max(beam, k), index=index)
    history = tuple(_event(text, seq) for seq, text in enumerate(event or []))
    request = SearchRequest(query, UserContext("cli-user" if history else None, {}, history))
    titles = _titles(task, data, source)
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


def _titles(task: str | None, data: Path | None, source: Path | None) -> dict[str, str] | None:
    if task is None:
        return None
    items = registry.load(task, data_root(data), source=source).items.select(["item_id", "title"]).to_pydict()
    return dict(zip(items["item_id"], items["title"]))
