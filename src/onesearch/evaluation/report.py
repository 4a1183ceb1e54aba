"""Evaluation reports: ``metrics.json``, a TREC run file, a Markdown table and PNG plots.

Contract: ``write_report(directory, result, runs, example_ids)`` writes into an existing
directory (the caller makes it atomic) and reads nothing; ``read_trec`` reads its run file back
(example ids may hold spaces, as Instacart's aisle names do). ``markdown_table`` renders the main
table from a ``metrics.json`` dict alone, so reports can be re-rendered from stored results.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from onesearch.errors import DataError  # noqa: E402
from onesearch.evaluation.harness import SearcherRun  # noqa: E402

__all__ = ["TABLE_METRICS", "Lists", "markdown_table", "read_trec", "write_report", "write_trec"]

Lists = dict[str, dict[str, list[str]]]  # searcher -> example id -> item ids, best first

TABLE_METRICS = ("recall@10", "recall@100", "recall@350", "hr@10", "mrr@10", "ndcg@10", "map@5")


def write_report(directory: Path, result: dict[str, Any], runs: Sequence[SearcherRun], example_ids: Sequence[str]) -> None:
    """All report files for ``result`` into ``directory``."""
    (directory / "metrics.json").write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    write_trec(directory / "run.trec", runs, example_ids)
    (directory / "report.md").write_text(markdown_table(result))
    _plot_recall(directory / "recall_at_k.png", result)
    _plot_latency(directory / "latency.png", runs)


def markdown_table(result: dict[str, Any]) -> str:
    """Main metrics, coverage and latency per searcher, then slices and paired comparisons."""
    header = ["searcher", *TABLE_METRICS, "items@10", "p50 ms", "p99 ms", "CPU ms/q"]
    lines = [_row(header), _row(["---"] * len(header))]
    for name, entry in result["searchers"].items():
        metrics, latency = entry["metrics"], entry["latency"]
        lines.append(
            _row([name, *(f"{metrics[m]:.4f}" for m in TABLE_METRICS), str(int(entry["coverage"]["items@10"])),
                  f"{latency['p50_ms']:.2f}", f"{latency['p99_ms']:.2f}", f"{latency['cpu_ms_per_query']:.2f}"])
        )
    lines += ["", f"{result['scored']} of {result['examples']} examples scored (the rest have no relevant target).", ""]
    lines += _leakage_lines(result.get("leakage"))
    lines += _slice_table(result)
    if result["comparisons"]:
        lines += ["", _row(["searcher", "vs", "metric", "diff", "95% CI", "p"]), _row(["---"] * 6)]
        for c in result["comparisons"]:
            lines.append(_row([c["searcher"], c["baseline"], c["metric"], f"{c['diff']:+.4f}",
                               f"[{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]", f"{c['p_value']:.4f}"]))
    return "\n".join(lines) + "\n"


def _leakage_lines(leakage: dict[str, Any] | None) -> list[str]:
    """The leakage audit's counts, and a warning when the run scored despite a leak."""
    if leakage is None:
        return []
    counts = ", ".join(f"{leakage[k]:,} {k.replace('_', ' ')}" for k in ("verbatim", "future", "shared_queries"))
    line = f"Leakage audit of {leakage['evaluated']:,} evaluated examples: {counts}."
    if leakage["leaks"]:
        line = f"**LEAKY RUN (scored with --allow-leaks): these numbers do not measure generalisation.** {line} First: {leakage['first']}."
    return [line, ""]


def _slice_table(result: dict[str, Any]) -> list[str]:
    names = list(result["searchers"])
    slices = sorted({s for entry in result["searchers"].values() for s in entry["slices"]})
    lines = [_row(["slice (ndcg@10 / hr@10)", "n", *names]), _row(["---"] * (len(names) + 2))]
    for slice_name in slices:
        cells = []
        n = 0
        for name in names:
            entry = result["searchers"][name]["slices"].get(slice_name)
            n = entry["n"] if entry else n
            cells.append(f"{entry['ndcg@10']:.4f} / {entry['hr@10']:.4f}" if entry else "-")
        lines.append(_row([slice_name, str(n), *cells]))
    return lines


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def write_trec(path: Path, runs: Sequence[SearcherRun], example_ids: Sequence[str]) -> None:
    """One line per hit: ``example Q0 item rank score searcher``."""
    with path.open("w") as out:
        for run in runs:
            for example_id, hits in zip(example_ids, run.hits):
                for rank, hit in enumerate(hits, start=1):
                    out.write(f"{example_id} Q0 {hit.item_id} {rank} {hit.score:.6f} {run.name}\n")


def read_trec(path: Path) -> Lists:
    """The ranked lists of a ``run.trec`` file, per searcher and example."""
    lists: Lists = defaultdict(lambda: defaultdict(list))
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rsplit(None, 5)  # the example id, the one field that may hold spaces, comes first
                if len(parts) != 6 or parts[1] != "Q0":
                    raise DataError("expected 6 fields: example Q0 item rank score searcher", path=path, row=number)
                lists[parts[5]][parts[0]].append(parts[2])
    except OSError as error:
        raise DataError(f"cannot read: {error.strerror}", path=path) from None
    return {name: dict(per_example) for name, per_example in lists.items()}


def _plot_recall(path: Path, result: dict[str, Any]) -> None:
    cutoffs = result["cutoffs"]
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, entry in result["searchers"].items():
        axis.plot(cutoffs, [entry["metrics"].get(f"recall@{k}", 0.0) for k in cutoffs], marker="o", label=name)
    axis.set(xscale="log", xlabel="K", ylabel="Recall@K", title="Recall@K")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot_latency(path: Path, runs: Sequence[SearcherRun]) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    for run in runs:
        axis.hist(run.wall_ms, bins=50, alpha=0.5, label=f"{run.name} (batch {run.batch_size})")
    axis.set(xlabel="ms per query", ylabel="queries", title="Latency", yscale="log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
