"""Shared fixtures: the shared data root and each real data set loaded once per session."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from onesearch.catalog import registry
from onesearch.cli import main
from onesearch.catalog.schema import Dataset

DATA_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@cache
def _load(name: str) -> Dataset:
    return registry.load(name, DATA_ROOT)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (CI has it beside the clone)."""
    assert DATA_ROOT.is_dir(), f"shared data not found at {DATA_ROOT}"
    return DATA_ROOT


@pytest.fixture(scope="session")
def load_shared(shared_data: Path):
    """``load_shared(name)`` -> that data set, read once per session (treat as read-only)."""
    return _load


COLOURS = ("red", "blue", "green", "black", "white", "yellow")
MATERIALS = ("cotton", "leather", "wool", "denim")
KINDS = ("shirt", "jacket", "boots", "hat", "scarf", "gloves", "socks", "bag")
BRANDS = ("acme", "zenith", "orbit")


def write_tiny_shop(directory: Path, users: int = 40, sessions: int = 12, seed: int = 7) -> Path:
    """A small generic-format shop whose users search "<colour> <kind>" and buy their brand."""
    import csv
    import random

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    items = []
    for c in COLOURS:
        for m in MATERIALS:
            for k in KINDS:
                brand = BRANDS[(len(items) * 7) % len(BRANDS)]
                items.append({"item_id": f"i{len(items)}", "title": f"{brand} {c} {m} {k}", "brand": brand, "category": f"apparel > {k}"})
    with (directory / "items.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["item_id", "title", "brand", "category"])
        writer.writeheader()
        writer.writerows(items)
    rows, time = [], 0
    for u in range(users):
        brand = BRANDS[u % len(BRANDS)]
        for s in range(sessions):
            c, k = rng.choice(COLOURS), rng.choice(KINDS)
            matching = [i for i in items if f" {c} " in i["title"] and i["title"].endswith(k)]
            liked = [i for i in matching if i["brand"] == brand] or matching
            time += 1
            session = f"u{u}s{s}"
            rows.append({"user_id": f"u{u}", "type": "search", "item_id": "", "query": f"{c} {k}", "session_id": session, "time": time})
            for item in rng.sample(liked, min(2, len(liked))):
                kind = "order" if rng.random() < 0.3 else "click"
                rows.append({"user_id": f"u{u}", "type": kind, "item_id": item["item_id"], "query": f"{c} {k}", "session_id": session, "time": time})
    with (directory / "interactions.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["user_id", "type", "item_id", "query", "session_id", "time"])
        writer.writeheader()
        writer.writerows(rows)
    return directory


@pytest.fixture(scope="session")
def tiny_shop(tmp_path_factory) -> Path:
    """Source directory of the tiny generic shop (read-only for tests)."""
    return write_tiny_shop(tmp_path_factory.mktemp("tiny_shop"))


# The CLI and a tiny trained anchored model, once per session (cli, deploy and benchmarks use them).

@pytest.fixture
def cli(capsys):
    """The CLI through its real entry point: ``cli(argv)`` -> (exit code, stdout, stderr)."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(argv)
        out = capsys.readouterr()
        return done.value.code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def cli_module():
    """``cli`` for session-scoped fixtures (captures with redirection instead of capsys)."""
    import contextlib
    import io

    def run(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as done:
            main(argv)
        return done.value.code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture(scope="session")
def tiny_shop_module(tiny_shop):
    """The session's tiny shop, for session-scoped fixtures."""
    return tiny_shop


@pytest.fixture(scope="session")
def anchored_trained(tiny_shop_module, tmp_path_factory, cli_module):
    """The anchored, planned model trained by ``onesearch train --task`` on the tiny shop (no
    recipe: it builds its cascade cache and codebook): (folder, common options, model folder, summary)."""
    tmp = tmp_path_factory.mktemp("anchored")
    common = ["--task", "generic", "--source", str(tiny_shop_module), "--cache", str(tmp / "cache")]
    code, stdout, err = cli_module(["train", *common, "--encoder", "minilm", "--set", "epochs=2", "--set", "beam=40"])
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    return tmp, common, Path(summary["model"]), summary


@pytest.fixture
def served_tiny_bundle(tiny_shop_module, anchored_trained, tmp_path) -> Path:
    """A bundle serving the tiny shop with its trained model, its own state file and event log."""
    tmp, _, model, _ = anchored_trained
    bundle = tmp_path / "bundle.toml"
    bundle.write_text(f'task = "generic"\nsource = "{tiny_shop_module}"\nmodel = "{model}"\nencoder = "minilm"\ncache = "{tmp / "cache"}"\n'
                      f'beam = 20\nevents = "{tmp_path / "events.jsonl"}"\nstate = "{tmp_path / "state.json"}"\n')
    return bundle

