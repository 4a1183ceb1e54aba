"""The CLI through its real entry point: ``cli(argv)`` -> (exit code, stdout, stderr)."""

from __future__ import annotations

import pytest

from onesearch.cli import main


@pytest.fixture
def cli(capsys):
    def run(argv: list[str]) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(argv)
        out = capsys.readouterr()
        return done.value.code, out.out, out.err

    return run
