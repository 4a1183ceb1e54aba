"""``onesearch serve``: bad bundles and admin keys are one line before anything loads."""

from __future__ import annotations

import pytest

from onesearch.cli.serve import admin_key
from onesearch.errors import DataError


def test_bad_bundles_are_one_line(tmp_path, cli_module):
    (tmp_path / "b.toml").write_text('task = "generic"\nmodle = "x"\n')
    code, _, err = cli_module(["serve", str(tmp_path / "b.toml")])
    assert code == 2 and "modle" in err and "b.toml" in err
    code, _, err = cli_module(["serve", str(tmp_path / "missing.toml")])
    assert code == 2 and "cannot read bundle" in err


def test_the_admin_key_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ONESEARCH_ADMIN_KEY", raising=False)
    assert admin_key(None) is None
    monkeypatch.setenv("ONESEARCH_ADMIN_KEY", "from-the-environment")
    assert admin_key(None) == "from-the-environment"
    (tmp_path / "key").write_text("a-long-enough-secret-key\nignored\n")
    assert admin_key(tmp_path / "key") == "a-long-enough-secret-key"
    (tmp_path / "k2").write_text("tiny-key\n")
    with pytest.raises(DataError, match="at least 16") as error:
        admin_key(tmp_path / "k2")
    assert "k2" in str(error.value) and "tiny-key" not in str(error.value)


def test_batch_threads_reach_the_batcher_settings(tmp_path, cli_module, monkeypatch):
    from onesearch.cli import serve as serve_module

    seen = []
    monkeypatch.setattr(serve_module.Deployment, "open", classmethod(lambda cls, *args, **kwargs: "deployment"))
    monkeypatch.setattr(serve_module, "serve", lambda deployment, host, port, settings, *rest: seen.append(settings))
    (tmp_path / "b.toml").write_text('task = "generic"\n')
    code, _, err = cli_module(["serve", str(tmp_path / "b.toml"), "--batch-threads", "1"])
    assert code in (0, None) and seen[0].workers == 1, err
    code, _, err = cli_module(["serve", str(tmp_path / "b.toml"), "--batch-threads", "0"])
    assert code == 2 and "--batch-threads" in err
