"""The ``onesearch`` command line: thin wrappers that parse options and call one library function.

Contract: nothing imports ``cli``. A user error (``DataError``) prints one line to stderr and
exits with code 2, never a traceback; usage errors keep click's message and code.
"""

from __future__ import annotations

import sys

import click
import typer

from onesearch.cli import data
from onesearch.errors import DataError

__all__ = ["app", "main"]

app = typer.Typer(help="Generative e-commerce search (OneSearch-style) with its cascade baseline.", no_args_is_help=True)
app.add_typer(data.app, name="data")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``DataError`` -> one line on stderr and exit code 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except click.ClickException as error:
        error.show()
        raise SystemExit(error.exit_code) from None
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)
