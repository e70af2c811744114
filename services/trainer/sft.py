"""The supervised phase's step loop: loss on the completion tokens, length-grouped batches, gradient
accumulation (averaged across ranks under torchrun), a checkpoint every N steps. Where the loop
stands is one `Position`, which is also what a checkpoint saves and a resume reads back, so a job
killed at step k goes on from step k with the same batches."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from services.trainer.batches import batch_order, collate, collate_packed, completion_loss
from services.trainer.checkpoints import CheckpointWriter
from services.trainer.distributed import World, shard, total, wrap
from services.trainer.job_spec import TrainingParams


@dataclass
class Position:
    """Where the supervised loop stands: steps taken, the epoch and batch within it, the loss of each
    step and the tokens seen so far."""

    step: int = 0
    epoch: int = 0
    cursor: int = 0
    losses: list[float] = field(default_factory=list)
    tokens_seen: int = 0

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any]) -> Position:
        return cls(
            saved["step"], saved["epoch"], saved["cursor"], list(saved["losses"]), saved["tokens_seen"]
        )


def total_steps(examples: int, params: TrainingParams) -> int:
    """Optimizer steps of the phase: max_steps when set, else the epochs' batches over accumulation."""
    if not examples:
        return 0
    batches_per_epoch = math.ceil(examples / params.batch_size)
    return params.max_steps or max(
        1, math.ceil(batches_per_epoch * params.epochs / params.gradient_accumulation)
    )


@dataclass
class Throughput:
    """This process's own share of the phase (a resumed job counts from its restart)."""

    seconds: float
    tokens: int

    @property
    def tokens_per_second(self) -> float | None:
        return round(self.tokens / self.seconds, 1) if self.seconds else None


def train_sft(
    model: Any,
    examples: list[tuple[list[int], list[int]]],
    params: TrainingParams,
    world: World,
    device: str,
    dtype: Any,
    optimizer: Any,
    scheduler: Any,
    position: Position,
    checkpoints: CheckpointWriter,
    report: Callable[..., None],
    pad_id: int,
) -> Throughput:
    """Run the loop from `position` (advanced in place) to the phase's last step."""
    import torch

    cuda = device != "cpu"
    device_type = "cuda" if cuda else "cpu"
    lengths = [len(e[0]) for e in examples]
    steps = total_steps(len(examples), params)
    trainable = [p for p in model.parameters() if p.requires_grad]
    started = time.perf_counter()
    first_step = position.step
    tokens_this_run = 0
    loss_of = wrap(model, completion_loss, world, cuda)  # through DDP when there are several ranks
    while position.step < steps:
        batches = batch_order(lengths, params.batch_size, params.seed, position.epoch, params.length_grouped)
        optimizer.zero_grad(set_to_none=True)
        accumulated, micro = 0.0, 0
        while position.cursor < len(batches) and position.step < steps:
            mine, real = shard(batches[position.cursor], world)
            rows = collate_packed(examples, mine) if params.packing else collate(examples, mine, pad_id)
            batch = {k: v.to(device) for k, v in rows.items()}
            position.cursor += 1
            last = micro + 1 == params.gradient_accumulation or position.cursor == len(batches)
            # Gradients are averaged across ranks only on the micro-batch that ends a step.
            syncing = contextlib.nullcontext() if world.size == 1 or last else loss_of.no_sync()
            with syncing:
                with torch.autocast(device_type=device_type, dtype=dtype, enabled=dtype != torch.float32):
                    loss, count = loss_of(batch)
                count = int(count) if real else 0
                (everyone,) = total(world, count)  # the micro-batch's completion tokens on all ranks
                share = count * world.size / everyone if everyone else 0.0  # 1.0 in one process
                (loss * share / params.gradient_accumulation).backward()
            micro += 1
            tokens = (
                int(batch["attention_mask"].sum())
                if "attention_mask" in batch
                else batch["input_ids"].numel()
            )
            if world.size == 1:
                accumulated += float(loss.detach())
            else:  # the micro-batch's token-mean over all ranks, as one process would log it
                loss_sum, all_tokens = total(world, float(loss.detach()) * count, tokens if real else 0)
                accumulated += loss_sum / everyone if everyone else 0.0
                tokens = int(all_tokens)
            position.tokens_seen += tokens
            tokens_this_run += tokens
            if not last:
                continue
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            position.step += 1
            position.losses.append(accumulated / micro)
            accumulated, micro = 0.0, 0
            elapsed = time.perf_counter() - started
            per_step = elapsed / max(1, position.step - first_step)
            report(
                state="RUNNING",
                step=position.step,
                total_steps=steps,
                loss=round(position.losses[-1], 5),
                tokens_per_second=round(tokens_this_run / elapsed, 1) if elapsed else 0.0,
                eta_seconds=round(per_step * (steps - position.step), 1),
            )
            due = params.checkpoint_every and position.step % params.checkpoint_every == 0
            if world.leader and due and position.step < steps:
                checkpoints.save(model, optimizer, scheduler, asdict(position))
        if position.cursor >= len(batches):
            position.epoch, position.cursor = position.epoch + 1, 0
    checkpoints.wait()
    return Throughput(time.perf_counter() - started, tokens_this_run)
