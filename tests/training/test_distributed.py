"""Data-parallel training (``training.distributed``): two gloo processes started by ``torchrun``
keep identical replicas, and their loss and weights match one process stepping on the same global
batch (tolerance 1e-5: float sums in another order). SGD steps, so the weights compare: Adam would
turn float noise in the softmax biases (gradient zero in exact arithmetic) into lr-sized steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onesearch.training.distributed import World

SCRIPT = '''
import json, sys
import torch
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.training.distributed import World

world = World.from_env()
torch.manual_seed(0)
config = AnchoredConfig(dim=8, nodes=(4, 16), evidence=3, hidden=8, query_correction=True)
model = AnchoredDecoder(config, [torch.randn(4, 8), torch.randn(16, 8)])
torch.manual_seed(world.rank + 1)  # replicas start apart: DDP must hand every rank rank 0's weights
with torch.no_grad():
    for p in model.parameters():
        p.add_(0.01 * torch.randn_like(p))
torch.manual_seed(0)
model_ref = None

class Loss(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
    def forward(self, query, evidence, target):
        states = self.model.states(query, None)
        scores = self.model.score_all(states[:, 1], 1, evidence)
        return torch.nn.functional.cross_entropy(scores, target)

data = torch.Generator().manual_seed(42)
batches = [(torch.randn(8, 8, generator=data), torch.randn(8, 16, 3, generator=data), torch.randint(0, 16, (8,), generator=data)) for _ in range(3)]
loss_of = world.wrap(Loss(model))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # not Adam: it scales float noise in zero-gradient biases up to lr
losses = []
for query, evidence, target in batches:
    rows = list(range(8))[world.rank :: world.size]
    loss = loss_of(query[rows], evidence[rows], target[rows])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(float(loss.detach()))
flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).tolist()
with open(sys.argv[1] + f".rank{world.rank}", "w") as out:
    json.dump({"losses": losses, "weights": flat}, out)
'''


def _run(tmp_path: Path, launcher: list[str], name: str) -> list[dict]:
    script = tmp_path / "steps.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run([*launcher, str(script), str(tmp_path / name)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(path.read_text()) for path in sorted(tmp_path.glob(f"{name}.rank*"))]


def test_two_torchrun_processes_keep_identical_replicas_and_match_one_process_at_the_same_global_batch(tmp_path):
    ranks = _run(tmp_path, [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"], "ddp")
    single = _run(tmp_path, [sys.executable], "single")
    assert len(ranks) == 2 and len(single) == 1
    assert ranks[0]["weights"] == ranks[1]["weights"]  # identical replicas, bit for bit
    for step, loss in enumerate(single[0]["losses"]):
        assert (ranks[0]["losses"][step] + ranks[1]["losses"][step]) / 2 == pytest.approx(loss, abs=1e-5)
    assert max(abs(a - b) for a, b in zip(ranks[0]["weights"], single[0]["weights"])) < 1e-5


def test_one_process_world_shards_nothing_away():
    world = World()
    assert world.main and world.shard([1, 2, 3]) == [1, 2, 3] and world.total(5) == 5 and world.broadcast("x") == "x"
    assert World(1, 2).shard(list(range(5))) == [1, 3]
