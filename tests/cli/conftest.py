"""The CLI through its real entry point: ``cli(argv)`` -> (exit code, stdout, stderr)."""

from __future__ import annotations

import json

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


RECIPE = """task = "generic"
encoder = "minilm"
pseudo_per_item = 1
cold_share = 0.05

[model]
d_model = 64
layers = 2
heads = 2
feedforward = 128
dropout = 0.0

[views]
query_code = true
user_id = true
short_term = true
long_term = true

[train]
align_epochs = 6
cooccur_epochs = 4
personal_epochs = 8
batch_size = 32
learning_rate = 0.003
"""


@pytest.fixture(scope="session")
def trained(tiny_shop_module, tmp_path_factory, cli_module):
    """A tiny generative model trained end to end (index -> TOML recipe -> train) on the tiny shop:
    (folder, common options, model folder, training summary)."""
    tmp = tmp_path_factory.mktemp("gen")
    common = ["--task", "generic", "--source", str(tiny_shop_module)]
    index = tmp / "sid"
    code, _, err = cli_module(["index", "build", *common, "--out", str(index), "--cache", str(tmp / "cache"), "--encoder", "minilm", "--levels", "16,4,4", "--opq", "0"])
    assert code == 0, err
    (tmp / "recipe.toml").write_text(f'cache = "{tmp / "states"}"\n' + RECIPE)
    model = tmp / "model"
    code, stdout, err = cli_module(["train", "--config", str(tmp / "recipe.toml"), "--source", str(tiny_shop_module), "--index", str(index), "--out", str(model)])
    assert code == 0, err
    return tmp, common, model, json.loads(stdout)
