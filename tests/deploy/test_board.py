"""``BuildBoard``: step transitions, progress with ETA, notes, and the terminal's lines."""

from __future__ import annotations

import pytest

from onesearch.deploy import board as board_module
from onesearch.deploy.board import BuildBoard, clock


def test_steps_move_once_through_their_states_with_elapsed_time_and_eta(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(board_module.time, "monotonic", lambda: now[0])
    lines: list[str] = []
    board = BuildBoard(["BM25", "encoder", "rankers"], lines.append)
    assert [s["status"] for s in board.snapshot()] == ["waiting"] * 3 and not board.finished
    board.start("BM25")
    now[0] += 2
    board.finish("BM25")
    board.start("encoder")
    now[0] += 30
    board.advance("encoder", 25, 100)
    board.note("epoch 1: loss 0.5")
    encoder = board.snapshot()[1]
    assert encoder["status"] == "running" and encoder["elapsed_s"] == 30.0 and encoder["eta_s"] == pytest.approx(90.0)
    assert encoder["note"] == "epoch 1: loss 0.5"
    assert "build: encoder 25/100 (25%), 30s elapsed, ETA 1m30s" in lines
    board.fail("encoder", "OSError: disk full")
    board.skip("rankers", "needs encoder")
    states = [(s["status"], s["note"], s["eta_s"]) for s in board.snapshot()]
    assert states == [("done", "", None), ("failed", "OSError: disk full", None), ("skipped", "needs encoder", None)] and board.finished
    assert "build: BM25 done in 2s" in lines and "build: encoder FAILED: OSError: disk full" in lines


def test_progress_lines_are_rate_limited(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(board_module.time, "monotonic", lambda: now[0])
    lines: list[str] = []
    board = BuildBoard(["encode"], lines.append)
    board.start("encode")
    for done in range(1, 101):
        now[0] += 0.5
        board.advance("encode", done, 100)
    assert len([line for line in lines if "ETA" in line]) == 5  # 50 s of progress, one line per 10 s


def test_clock():
    assert (clock(None), clock(4.4), clock(65), clock(3600)) == ("-", "4s", "1m05s", "60m00s")
