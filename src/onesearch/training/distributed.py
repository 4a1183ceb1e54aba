"""Data-parallel training on ``torch.distributed`` (DDP): who this process is, and what it shares.

Contract: a ``World`` is this process's rank among ``size`` training processes. ``World.from_env()``
reads what ``torchrun`` sets (``RANK``, ``WORLD_SIZE``; one process when unset) and joins the
process group (gloo for modules on the CPU, NCCL for modules on GPUs). The anchored trainer
steps on the CPU (its planning is CPU work and its model is small), so it joins over gloo on
GPU machines too. ``launch(fn, workers, *args)`` runs
``fn(world, *args)`` in ``workers`` local processes (torch's multiprocessing spawn, a free local
port), so ``onesearch train --workers N`` needs no launcher; each result comes back in rank order.
``world.shard(rows)`` is this rank's share of a sequence (every ``size``-th row from ``rank``);
``world.wrap(module)`` is ``DistributedDataParallel`` when ``size > 1`` (gradients averaged over
ranks after every backward), the module itself otherwise. Only rank 0 (``world.main``) writes
files; ``world.broadcast(value)`` hands rank 0's value (a valid score, a decision) to every rank.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

__all__ = ["World", "launch"]

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` data-parallel training processes."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """True for the process that logs and writes (rank 0)."""
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str = "cpu") -> World:
        """The world ``torchrun`` (or ``launch``) describes in the environment, joined over gloo
        for modules on ``device`` "cpu" and NCCL for "cuda"; one process when none is described."""
        size = int(os.environ.get("WORLD_SIZE", "1"))
        if size == 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device == "cuda" and torch.cuda.is_available() else "gloo")
        return cls(dist.get_rank(), dist.get_world_size())

    def shard(self, rows: Sequence[T]) -> list[T]:
        """This rank's share of ``rows``: every ``size``-th row, from row ``rank``."""
        return list(rows[self.rank :: self.size])

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` under DDP when there are several ranks (replicas start from rank 0's weights)."""
        if self.size == 1:
            return module
        return torch.nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)

    def broadcast(self, value: T) -> T:
        """Rank 0's ``value`` on every rank (any picklable value)."""
        if self.size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def total(self, count: int) -> int:
        """The sum of ``count`` over every rank."""
        if self.size == 1:
            return count
        value = torch.tensor([count], dtype=torch.int64)
        dist.all_reduce(value)
        return int(value.item())

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.size > 1:
            dist.barrier()


def launch(fn: Callable[..., T], workers: int, *args: Any) -> list[T]:
    """``fn(world, *args)`` in ``workers`` spawned local processes (gloo over a free port); their
    results in rank order. One worker runs in this process."""
    if workers == 1:
        return [fn(World(), *args)]
    with tempfile.TemporaryDirectory(prefix="onesearch-ddp-") as tmp:
        mp.spawn(_worker, args=(workers, _free_port(), fn, args, tmp), nprocs=workers, join=True)
        return [torch.load(Path(tmp) / f"rank{rank}.pt", weights_only=False) for rank in range(workers)]


def _worker(rank: int, size: int, port: int, fn: Callable[..., Any], args: tuple[Any, ...], tmp: str) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank), "WORLD_SIZE": str(size), "LOCAL_RANK": str(rank)})
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // size))
    world = World.from_env()
    try:
        torch.save(fn(world, *args), Path(tmp) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
