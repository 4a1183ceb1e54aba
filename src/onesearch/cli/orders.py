"""``onesearch orders fit | export | diagnose | eval``: order diagnosis for the merchant (``onesearch.orders``).

Orders come from a shared set (``--data amazon-india|online-retail|olist``) or from a file or
folder in the generic order format (``--source``; README "Order diagnosis"). Every output is
written whole or not at all.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from onesearch.artifacts import atomic_directory, write_text_atomic
from onesearch.cli.data import data_root
from onesearch.errors import DataError
from onesearch.orders.evaluate import SPLITS, Report, default_test_start, evaluate, reliability, split_orders
from onesearch.orders.model import DiagnosisConfig, Diagnoser, load_diagnoser
from onesearch.orders.readers import DATASETS, OrderSource, read_source
from onesearch.orders.schema import lines_to_orders, write_lines

__all__ = ["app", "load_orders"]

app = typer.Typer(help="Order diagnosis: orders to check before shipping and orders to ship first.", no_args_is_help=True)
console = Console(stderr=True)

NameOption = Annotated[str | None, typer.Option("--data", help=f"Shared order set: {', '.join(DATASETS)}.")]
SourceOption = Annotated[Path | None, typer.Option("--source", help="Orders in the generic format: a lines file, or a folder holding orders.csv / .jsonl / .parquet.")]
RootOption = Annotated[Path | None, typer.Option("--data-root", help="Where the shared sets live (default: $ONESEARCH_DATA, else ../shared/data).")]


def load_orders(name: str | None, source: Path | None, root: Path | None) -> tuple[OrderSource, pd.DataFrame]:
    """(the source, its order table) from exactly one of ``--data`` and ``--source``."""
    if (name is None) == (source is None):
        raise DataError("give exactly one of --data NAME and --source PATH")
    found = read_source(name if name is not None else source, data_root(root))  # type: ignore[arg-type]
    return found, lines_to_orders(found.lines)


@app.command("fit")
def fit_command(
    out: Annotated[Path, typer.Option("--out", help="Model directory (replaced atomically).")],
    name: NameOption = None,
    source: SourceOption = None,
    root: RootOption = None,
) -> None:
    """Learn a diagnosis model from every labelled order of the source."""
    found, orders = load_orders(name, source, root)
    model = Diagnoser.fit(orders)
    model.save(out, source=found.name, dropped=found.dropped, orders=len(orders), labelled=int(orders["problem"].notna().sum()))
    console.print(f"fitted on {int(orders['problem'].notna().sum())} labelled orders of {found.name} -> {out}")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Generic lines file to write (.csv or .csv.gz; replaced atomically).")],
    name: NameOption = None,
    source: SourceOption = None,
    root: RootOption = None,
) -> None:
    """Write a source's orders in the generic format (leaking columns already dropped)."""
    found, orders = load_orders(name, source, root)
    write_lines(found.lines, out)
    console.print(f"{len(found.lines)} lines of {len(orders)} orders of {found.name} -> {out}")


@app.command("diagnose")
def diagnose_command(
    file: Annotated[Path, typer.Argument(help="Orders to diagnose (generic format, or a raw Amazon India export).")],
    model: Annotated[Path, typer.Option("--model", help="Directory from `onesearch orders fit`.")],
    out: Annotated[Path, typer.Option("--out", help="CSV of flags, risks, ship-first ranks and reasons (replaced atomically).")],
) -> None:
    """Flag the FILE's orders (check / ship first), with a risk, a rank and reasons each."""
    diagnoser = load_diagnoser(model)
    orders = lines_to_orders(read_source(file, data_root(None)).lines)
    result = diagnoser.diagnose(orders)
    write_text_atomic(out, result.to_csv(index=False))
    flags = result["flag"].value_counts()
    console.print(f"{len(result)} orders: {int(flags.get('check', 0))} to check, {int(flags.get('ship first', 0))} to ship first -> {out}")


@app.command("eval")
def eval_command(
    out: Annotated[Path, typer.Option("--out", help="Report directory: metrics.json, report.md, scores.csv, reliability.png.")],
    name: NameOption = None,
    source: SourceOption = None,
    root: RootOption = None,
    split: Annotated[str, typer.Option("--split", help=f"How to cut train and test: {', '.join(SPLITS)}.")] = "time",
    test_from: Annotated[str | None, typer.Option("--test-from", help="Time split: first test day (default: the first day of the month holding the 85th percentile of the labelled orders' dates).")] = None,
    test_file: Annotated[Path | None, typer.Option("--test-file", help="Its orders are the test set; training uses the source's orders dated before its earliest order.")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples of the paired CIs.", min=50)] = 1000,
    batch: Annotated[bool, typer.Option("--batch/--no-batch", help="Count the other orders of an order's day (its batch, known at the end of the day) or only earlier days.")] = True,
) -> None:
    """Time-split (or random / customer) report: the diagnosis model against logistic regression and the base rate."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} (one of {', '.join(SPLITS)})")
    started = time.perf_counter()
    found, orders = load_orders(name, source, root)
    if test_file is not None:
        train, test, context, note = _test_file_split(orders, lines_to_orders(read_source(test_file, data_root(root)).lines), test_file, test_from)
        split = "test-file"
        if note:
            console.print(note)
    else:
        train, test = split_orders(orders, split, test_from)
        context, note = None, None
    report = evaluate(train, test, context, DiagnosisConfig(batch=batch), resamples=resamples)
    _write_report(out, report, {"data": found.name, "split": split, "test_file": None if test_file is None else str(test_file),
                                "batch": batch, "note": note, "dropped": found.dropped, "seconds": round(time.perf_counter() - started, 1), "machine": platform.machine()})
    console.print(_table(report))
    console.print(f"-> {out}")


def _test_file_split(orders: pd.DataFrame, tested: pd.DataFrame, path: Path, test_from: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str | None]:
    """(train, test, context, note): the file's orders are the test set and train is the source's
    orders dated before its earliest one. A file that starts with the source (nothing earlier to
    learn from) is time-split itself: its orders from ``test_from`` (default:
    ``default_test_start`` of the file) are tested, the source's orders before that train; every order of both is context."""
    others = orders[~orders["order_id"].isin(tested["order_id"])]
    context = pd.concat([others, tested], ignore_index=True)
    start, note = tested["ordered_at"].min(), None
    if others.loc[others["ordered_at"] < start, "problem"].notna().sum() == 0:
        start = pd.Timestamp(test_from) if test_from else default_test_start(tested)
        tested = tested[tested["ordered_at"] >= start]
        note = f"nothing of the source is dated before the test file's first order: scoring its orders from {start.date()} on"
    train = others[others["ordered_at"] < start].reset_index(drop=True)
    if train["problem"].notna().sum() == 0 or tested["problem"].notna().sum() == 0:
        raise DataError(f"no labelled orders to train on before {start.date()} or none to test from then on", path=path)
    return train, tested.reset_index(drop=True), context, note


def _write_report(out: Path, report: Report, run: dict[str, object]) -> None:
    with atomic_directory(out) as tmp:
        payload = {**run, "sizes": report.sizes, "models": report.metrics, "diagnosis_minus": report.versus}
        (tmp / "metrics.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        report.scores.to_csv(tmp / "scores.csv", index=False)
        reliability(report.scores, tmp / "reliability.png")
        (tmp / "report.md").write_text(_table(report) + "\n", encoding="utf-8")


def _table(report: Report) -> str:
    """The report as a Markdown table, models by rows, then the paired CIs."""
    columns = ("pr_auc", "roc_auc", "precision@5%", "recall@5%", "precision@10%", "recall@10%", "brier")
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for model, values in report.metrics.items():
        lines.append(f"| {model} | " + " | ".join(f"{values[c]:.4f}" for c in columns) + " |")
    sizes = report.sizes
    lines.append(f"\n{sizes['test_orders']} test orders {sizes['test_span'][0]}..{sizes['test_span'][1]} (base rate {sizes['test_base_rate']:.4f}); "
                 f"{sizes['train_orders']} train orders {sizes['train_span'][0]}..{sizes['train_span'][1]}.\n")
    for other, deltas in report.versus.items():
        cells = ", ".join(f"{metric} {mean:+.4f} [{low:+.4f}, {high:+.4f}]" for metric, (mean, low, high) in deltas.items())
        lines.append(f"- diagnosis − {other}: {cells}")
    return "\n".join(lines)
