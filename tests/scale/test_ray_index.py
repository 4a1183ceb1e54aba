"""``onesearch index build --engine ray`` on a local Ray (3 logical CPUs: two actors and a reader, on this 2-core machine): the same codebook as the
single-process build on the same input and seed, with code shards and a manifest; the quantizers
fit on a sample when asked, and a balanced level (not shardable) is one clear error."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from onesearch.artifacts import read_manifest
from onesearch.semantic_ids.codebook import SemanticIdCodebook

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _build(cli, tiny_shop, tmp_path, out, *options):
    code, stdout, err = cli(["index", "build", "--task", "generic", "--source", str(tiny_shop), "--out", str(tmp_path / out), "--cache", str(tmp_path / "cache"),
                             "--encoder", "minilm", "--levels", "8,4", "--no-balanced", "--opq", "0", *options])
    assert code == 0, err
    return SemanticIdCodebook.load(tmp_path / out), _report(stdout)


def _report(stdout: str) -> dict:
    """The build's JSON report: the document from the first line that opens one (Ray's raylet
    can print a system-error line, e.g. a worker that died and was retried, before it)."""
    lines = stdout.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.loads("".join(lines[start:]))


@pytest.mark.parametrize("sample", ["1000", "100"])
def test_ray_build_equals_the_single_process_build(local_ray, tiny_shop, tmp_path, cli, sample):
    ray_book, quality = _build(cli, tiny_shop, tmp_path, "ray", "--engine", "ray", "--workers", "2", "--sample", sample)
    local_book, local_quality = _build(cli, tiny_shop, tmp_path, "local", "--sample", sample)
    assert ray_book.item_ids == local_book.item_ids and len(ray_book.item_ids) == 192
    assert np.array_equal(ray_book.codes, local_book.codes) and np.array_equal(ray_book.suffix, local_book.suffix)
    assert all(np.array_equal(a, b) for a, b in zip(ray_book.rq.codebooks, local_book.rq.codebooks))
    assert quality["icr"] == local_quality["icr"] and quality["keywords"] == local_quality["keywords"] > 0
    shards = pq.read_table(tmp_path / "ray" / "shards").sort_by("row")
    assert shards["item_id"].to_pylist() == ray_book.item_ids and np.array_equal(shards["c1"].to_numpy(), ray_book.codes[:, 1])
    assert read_manifest(tmp_path / "ray")["items"] == 192 and (tmp_path / "ray" / "encoder.json").is_file()


def test_a_balanced_level_cannot_be_sharded(local_ray, tiny_shop, tmp_path, cli):
    code, _, err = cli(["index", "build", "--task", "generic", "--source", str(tiny_shop), "--out", str(tmp_path / "b"), "--cache", str(tmp_path / "cache"),
                        "--encoder", "minilm", "--levels", "8,4", "--balanced", "--opq", "0", "--engine", "ray"])
    assert code == 2 and "cannot code items one shard at a time" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()
