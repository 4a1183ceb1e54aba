"""``onesearch train``: the generative searcher, trained by a recipe (TOML) on a task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onesearch.catalog import registry
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.training.recipe import Recipe, run

__all__ = ["train_command"]

console = Console(stderr=True)


def train_command(
    out: Annotated[Path, typer.Option("--out", help="Model directory (replaced atomically; an interrupted run resumes from <out>.checkpoint).")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML recipe: task, index, encoder, [model], [views], [train] (see configs/).")] = None,
    task: Annotated[str | None, typer.Option("--task", help="Data set whose train split teaches (overrides the recipe).")] = None,
    index: Annotated[str | None, typer.Option("--index", help="Codebook directory from `onesearch index build` (overrides the recipe).")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", help="Frozen text encoder: minilm or a sentence-transformers directory (overrides the recipe).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", help="Override one recipe key: KEY=VALUE or SECTION.KEY=VALUE (TOML value), e.g. views.short_term=false; repeatable.")] = None,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Train the code decoder through the curriculum: align, co-occurrence, personalization."""
    recipe = Recipe.from_toml(config, setting or [], task=task, index=index, encoder=encoder)
    dataset = registry.load(recipe.task, data_root(data), source=source)
    summary = run(recipe, dataset, out, log=console.print)
    typer.echo(json.dumps(summary))
