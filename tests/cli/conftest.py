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


@pytest.fixture(scope="module")
def cli_module():
    """``cli`` for module-scoped fixtures (captures with redirection instead of capsys)."""
    import contextlib
    import io

    def run(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as done:
            main(argv)
        return done.value.code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture(scope="module")
def tiny_shop_module(tiny_shop):
    """The session's tiny shop, for module-scoped fixtures."""
    return tiny_shop
