"""``read_trec``: an eval report's run file read back, example ids with spaces included."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.errors import DataError
from onesearch.evaluation.harness import SearcherRun
from onesearch.evaluation.report import read_trec, write_trec
from onesearch.types import Hit


def test_a_written_run_file_reads_back_per_searcher_and_example_even_with_spaces_in_ids(tmp_path):
    runs = [SearcherRun(name, [[Hit("a", 2.0), Hit("b", 1.0)], [Hit("c", 0.5)]], np.zeros(2), np.zeros(2), 1) for name in ("one", "two")]
    write_trec(tmp_path / "run.trec", runs, ["ic-7-soup broth bouillon", "q2"])
    lists = read_trec(tmp_path / "run.trec")
    assert lists["one"] == {"ic-7-soup broth bouillon": ["a", "b"], "q2": ["c"]} and lists["two"] == lists["one"]


def test_a_short_line_is_one_error_naming_its_row(tmp_path):
    (tmp_path / "run.trec").write_text("q1 Q0 a 1 0.5 one\nq1 a 2 0.4 one\n")
    with pytest.raises(DataError, match="6 fields") as caught:
        read_trec(tmp_path / "run.trec")
    assert caught.value.row == 2 and "row 2" in str(caught.value)
