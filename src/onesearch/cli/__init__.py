"""The ``onesearch`` command line: thin wrappers that parse options and call one library function.

Contract: nothing imports ``cli``. A user error (``DataError``) prints one line to stderr and
exits with code 2, never a traceback; typer reports usage errors itself (also exit code 2).
"""

from __future__ import annotations

import sys

import typer

from onesearch.cli import data, index, orders
from onesearch.cli.demo import demo_command
from onesearch.cli.eval import evaluate_command
from onesearch.cli.fuse import fuse_command
from onesearch.cli.search import search_command
from onesearch.cli.serve import serve_command
from onesearch.cli.train import train_command
from onesearch.errors import DataError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Generative e-commerce search (OneSearch-style) with its cascade baseline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(index.app, name="index")
app.add_typer(orders.app, name="orders")
app.command("eval")(evaluate_command)
app.command("fuse")(fuse_command)
app.command("train")(train_command)
app.command("search")(search_command)
app.command("serve")(serve_command)
app.command("demo")(demo_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``DataError`` -> one line on stderr and exit code 2."""
    try:
        app(args=argv)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
