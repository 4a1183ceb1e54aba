"""``onesearch data list | inspect | prepare``: the data layer from the command line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import onesearch
from onesearch.catalog import registry, store
from onesearch.catalog.export import write_generic
from onesearch.catalog.schema import Dataset
from onesearch.catalog.summary import summarize

__all__ = ["app", "data_root"]

app = typer.Typer(help="List, inspect, prepare and export data sets.", no_args_is_help=True)
console = Console(stderr=True)

DataOption = Annotated[Path | None, typer.Option("--data", help="Data root (default: $ONESEARCH_DATA, else ../shared/data).")]
SourceOption = Annotated[Path | None, typer.Option("--source", help="Directory with items/users/interactions (generic only).")]
TestFileOption = Annotated[Path | None, typer.Option("--test-file", help="External labelled file in the task's raw format: becomes the test split.")]


def data_root(option: Path | None) -> Path:
    """``--data``, else ``$ONESEARCH_DATA``, else ``../shared/data`` next to the repository root."""
    if option is not None:
        return option
    if os.environ.get("ONESEARCH_DATA"):
        return Path(os.environ["ONESEARCH_DATA"])
    package = Path(onesearch.__file__).resolve().parents[2]
    repo = package if (package / "pyproject.toml").is_file() else Path.cwd()
    return repo.parent / "shared" / "data"


def _load(name: str, data: Path | None, source: Path | None, test_file: Path | None) -> Dataset:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:
        bar.add_task(f"reading {name}", total=None)
        return registry.load(name, data_root(data), test_file=test_file, source=source)


@app.command("list")
def list_datasets(data: DataOption = None) -> None:
    """Known data sets, whether their files are present, and whether they define a task."""
    root = data_root(data)
    table = Table("name", "task", "files", "summary")
    for spec in registry.DATASETS.values():
        present = "-" if not spec.files else "ok" if all((root / f).is_file() for f in spec.files) else "missing"
        table.add_row(spec.name, "yes" if spec.task else "no", present, spec.summary)
    Console().print(table)
    Console().print(f"data root: {root}")


@app.command()
def inspect(
    name: str,
    data: DataOption = None,
    source: SourceOption = None,
    test_file: TestFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Counts, schema, examples and label distribution of a data set."""
    summary = summarize(_load(name, data, source, test_file))
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        return
    _render(summary)


def _render(summary: dict[str, Any]) -> None:
    out = Console()
    out.rule(f"[bold]{summary['name']}")
    counts = Table("table", "rows", "columns")
    for name, rows in summary["rows"].items():
        counts.add_row(name, f"{rows:,}", ", ".join(f"{c}: {t}" for c, t in summary["schema"][name].items()))
    out.print(counts)
    labels = summary["labels"]["per_split"]
    if labels:
        splits = Table("split", "examples", "queries", "users", "mean targets", "with relevant")
        for split, row in labels.items():
            splits.add_row(split, f"{row['examples']:,}", f"{row['queries']:,}", f"{row['users']:,}", str(row["mean_targets"]), f"{row['with_relevant']:,}")
        out.print(splits)
        out.print("gain distribution:", summary["labels"]["gain_counts"])
    if summary["interaction_types"]:
        out.print("interaction types:", summary["interaction_types"])
    for name, rows in summary["samples"].items():
        out.print(f"[bold]{name}[/] sample:", json.dumps(rows[0], ensure_ascii=False, default=str)[:400])
    if summary["notes"]:
        out.print("data policy notes:", summary["notes"])
    if summary["meta"]:
        out.print("meta:", summary["meta"])


@app.command()
def export(
    name: str,
    out: Annotated[Path, typer.Option("--out", help="Shop directory to write (replaced atomically): items.csv [+ interactions.csv].")],
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Write a data set as a shop in the generic input format (for `onesearch demo --task generic --source OUT`)."""
    dataset = _load(name, data, source, None)
    written = write_generic(dataset, out)
    Console().print(f"wrote {name} as a generic shop to {out}: " + ", ".join(f"{file} {rows:,} rows" for file, rows in written.items()))


@app.command()
def prepare(
    name: str,
    out: Annotated[Path, typer.Option("--out", help="Directory to write (replaced atomically).")],
    data: DataOption = None,
    source: SourceOption = None,
    test_file: TestFileOption = None,
) -> None:
    """Read, validate and write a data set's canonical tables (+ task examples) to OUT."""
    started = time.perf_counter()
    dataset = _load(name, data, source, test_file)
    inputs = registry.input_files(name, data_root(data), source)
    if test_file is not None:
        inputs["test_file"] = test_file
    manifest = store.save(dataset, out, config={"data_root": str(data_root(data)), "test_file": test_file and str(test_file)}, inputs=inputs)
    seconds = time.perf_counter() - started
    rows = ", ".join(f"{k} {v:,}" for k, v in manifest["rows"].items() if v)
    splits = ", ".join(f"{k} {v:,}" for k, v in manifest["splits"].items() if v)
    Console().print(f"prepared {name} -> {out} in {seconds:.1f}s: {rows}" + (f"; examples by split: {splits}" if splits else ""))
    if dataset.notes:
        Console().print("data policy notes:", dataset.notes)
