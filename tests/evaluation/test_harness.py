import json

import pytest

from onesearch.evaluation.harness import evaluate, run_searcher
from onesearch.evaluation.report import write_report
from onesearch.evaluation.slices import Slicer
from onesearch.types import Example, Hit, SearchRequest, Target


class Echo:
    """Returns the query's words as item ids: a searcher whose output is known exactly."""

    def __init__(self, name, reverse=False):
        self.name = name
        self.reverse = reverse
        self.calls = []

    def search(self, requests, k):
        self.calls.append(len(requests))
        out = []
        for request in requests:
            words = request.query.split()[::-1] if self.reverse else request.query.split()
            out.append([Hit(w, float(-i)) for i, w in enumerate(words)][:k])
        return out


EXAMPLES = [
    Example("q1", "test", (Target("a", 1.0, True),), query="a b c"),
    Example("q2", "test", (Target("c", 1.0, True),), query="a b c"),
    Example("q3", "test", (Target("z", 0.0, False),), query="z"),
]


def test_batches_and_per_query_timings():
    searcher = Echo("echo")
    run = run_searcher(searcher, [SearchRequest(e.query) for e in EXAMPLES], k=2, batch_size=2)
    assert searcher.calls == [2, 1]
    assert [[h.item_id for h in hits] for hits in run.hits] == [["a", "b"], ["a", "b"], ["z"]]
    assert run.wall_ms.shape == (3,) and (run.wall_ms >= 0).all()


def test_evaluate_scores_only_examples_with_a_relevant_target(tmp_path):
    requests = [SearchRequest(e.query) for e in EXAMPLES]
    runs = [run_searcher(Echo("forward"), requests, k=10), run_searcher(Echo("reverse", reverse=True), requests, k=10)]
    result = evaluate(runs, EXAMPLES, Slicer([]), catalog_size=4)
    assert result["scored"] == 2
    # forward: q1 hits a at rank 1, q2 hits c at rank 3 -> MRR@10 = (1 + 1/3) / 2
    assert result["searchers"]["forward"]["metrics"]["mrr@10"] == pytest.approx(2 / 3)
    # reverse: q1 a at rank 3, q2 c at rank 1 -> same mean, HR@1 = 1/2 each
    assert result["searchers"]["reverse"]["metrics"]["hr@1"] == 0.5
    assert result["searchers"]["forward"]["coverage"]["items@10"] == 4
    comparison = [c for c in result["comparisons"] if c["metric"] == "mrr@10"][0]
    assert comparison["diff"] == pytest.approx(0.0)
    write_report(tmp_path, result, runs, [e.example_id for e in EXAMPLES])
    assert json.loads((tmp_path / "metrics.json").read_text())["scored"] == 2
    lines = (tmp_path / "run.trec").read_text().splitlines()
    assert lines[0] == "q1 Q0 a 1 0.000000 forward" and len(lines) == 14
    assert "| forward |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "recall_at_k.png").stat().st_size > 0 and (tmp_path / "latency.png").stat().st_size > 0
