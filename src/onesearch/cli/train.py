"""``onesearch train``: the generative searcher, trained by a recipe (TOML) on a task."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onesearch.catalog import registry
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.errors import DataError
from onesearch.training.recipe import Recipe, run

__all__ = ["train_command"]

console = Console(stderr=True)


def train_command(
    out: Annotated[Path, typer.Option("--out", help="Model directory (replaced atomically; an interrupted run resumes from <out>.checkpoint).")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML recipe: task, index, encoder, [model], [views], [train] (see configs/).")] = None,
    task: Annotated[str | None, typer.Option("--task", help="Data set whose train split teaches (overrides the recipe).")] = None,
    index: Annotated[str | None, typer.Option("--index", help="Codebook directory from `onesearch index build` (overrides the recipe).")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", help="Frozen text encoder: minilm or a sentence-transformers directory (overrides the recipe).")] = None,
    without: Annotated[list[str] | None, typer.Option("--without", help="Switch a view of the recipe off (ablations): query_code, profile, user_id, short_term, long_term; repeatable.")] = None,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Train the code decoder through the curriculum: align, co-occurrence, personalization."""
    recipe = Recipe.from_toml(config, task=task, index=index, encoder=encoder)
    if without:
        try:
            recipe = replace(recipe, views=recipe.views.without(*without))
        except ValueError as error:
            raise DataError(f"--without: {error}") from None
    dataset = registry.load(recipe.task, data_root(data), source=source)
    summary = run(recipe, dataset, out, log=console.print)
    typer.echo(json.dumps(summary))
