"""``Bundle.read``: a file or a folder; unknown keys and wrong types are one located error."""

from __future__ import annotations

import pytest

from onesearch.deploy.bundle import Bundle
from onesearch.errors import DataError


def test_a_folder_bundle_with_empty_logs_turns_them_off(tmp_path):
    (tmp_path / "bundle.toml").write_text('task = "generic"\nbeam = 30\nevents = ""\nstate = ""\n')
    assert Bundle.read(tmp_path) == Bundle(task="generic", beam=30, events=None, state=None)


@pytest.mark.parametrize("content, problem", [
    ('task = "x"\nmodle = "m"\n', "modle"),
    ('model = "m"\n', "needs task"),
    ('task = "x"\nbeam = "50"\n', "wrong type"),
    ('task = "x"\nbeam = true\n', "wrong type"),
    ('task = "x"\nspelling = "no"\n', "wrong type"),
    ("task = ", "cannot read bundle"),
])
def test_bad_bundles_are_one_located_error(tmp_path, content, problem):
    (tmp_path / "b.toml").write_text(content)
    with pytest.raises(DataError, match=problem) as error:
        Bundle.read(tmp_path / "b.toml")
    assert "b.toml" in str(error.value)


def test_a_written_bundle_reads_back(tmp_path):
    bundle = Bundle(task="generic", source='C:\\shop "one"', model="m", beam=7, spelling=False, events=None)
    bundle.write(tmp_path / "deep" / "bundle.toml")
    assert Bundle.read(tmp_path / "deep") == bundle
