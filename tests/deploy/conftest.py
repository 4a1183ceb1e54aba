"""A deployment of the tiny shop with the session's tiny trained anchored model (what the demo serves)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment


@pytest.fixture
def served(anchored_trained) -> tuple[Path, Path]:
    """(the model folder, its cascade cache)."""
    tmp, _, model, _ = anchored_trained
    return model, tmp / "cache"


@pytest.fixture
def bundle(served, tiny_shop_module, tmp_path) -> Path:
    model, cache = served
    path = tmp_path / "bundle.toml"
    path.write_text(
        f'task = "generic"\nsource = "{tiny_shop_module}"\nmodel = "{model}"\nencoder = "minilm"\n'
        f'cache = "{cache}"\nbeam = 20\nevents = ""\nstate = "{tmp_path / "state.json"}"\n'
    )
    return path


@pytest.fixture
def open_deployment(bundle, shared_data):
    """``open_deployment()`` -> a fresh ``Deployment`` of the bundle (a restart)."""
    return lambda: Deployment.open(Bundle.read(bundle), shared_data, log=lambda _: None)
