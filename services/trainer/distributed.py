"""Training on N processes (`torchrun --nproc_per_node N -m services.trainer.train SPEC`): NCCL on
GPUs, gloo on CPUs, DistributedDataParallel over the model.

Each optimizer step sees exactly the rows a single process would (the same batch order, each
micro-batch's rows dealt out across ranks), and the loss is weighted by each rank's share of the
micro-batch's completion tokens, so the averaged gradient is the single process's token-mean - the
same run, N times wider. Rank 0 alone writes progress, checkpoints and the version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        """The process that writes: progress, checkpoints, the version."""
        return self.rank == 0

    def device(self, cuda: bool) -> str:
        return f"cuda:{self.local_rank}" if cuda else "cpu"


def join(cuda: bool) -> World:
    """This process's place among torchrun's (one process alone when started without torchrun)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch
    import torch.distributed as dist

    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if cuda:
        torch.cuda.set_device(world.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return world


def leave(world: World) -> None:
    if world.size > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.size > 1:
        import torch.distributed as dist

        dist.barrier()


def shard(rows: list[int], world: World) -> tuple[list[int], bool]:
    """This rank's rows of a micro-batch, dealt round-robin; a rank left without a row computes on
    the batch's first row with weight 0 (every rank must take part in each backward pass)."""
    mine = rows[world.rank :: world.size]
    return (mine, True) if mine else (rows[:1], False)


def total(world: World, *values: float) -> list[float]:
    """Each value summed over every rank, in one all-reduce."""
    if world.size == 1:
        return list(values)
    import torch
    import torch.distributed as dist

    backend_device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor(values, dtype=torch.float64, device=backend_device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def wrap(model: Any, loss_fn: Any, world: World, cuda: bool) -> Any:
    """A module batch -> (loss, completion tokens) around the model - through DDP when there are
    several ranks. DDP arms its gradient hooks in the wrapper's forward, which calling
    completion_loss on the model directly would bypass. (Defined here, not at module level, so that
    importing the trainer never imports torch.)"""
    import torch

    class Loss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, batch: dict[str, Any]) -> tuple[Any, Any]:
            loss, count = loss_fn(self.model, batch)
            return loss, torch.tensor(count)

    if world.size == 1:
        return Loss()
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(Loss(), device_ids=[world.local_rank] if cuda else None)
