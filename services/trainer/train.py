"""The training entrypoint: what the local launcher runs as a subprocess and a Kubernetes Job runs
in its GPU container.

    python -m services.trainer.train SPEC.json

Supervised fine-tuning of a causal LM on a frozen dataset (rows of prompt + completion rendered by
the shared prompt builder): LoRA (default) or full fine-tuning, loss on the completion (SQL) tokens
only with the output layer applied to those positions alone, length-grouped batches, gradient
accumulation, bf16 on GPU and fp32 on CPU, deterministic under a seed, a checkpoint every N steps
and resume from the last one after a kill. The model version folder is written to a temp folder and
renamed into place, so it either exists whole or not at all. Progress goes to work_dir/progress.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.trainer.batches import (
    batch_order,
    collate,
    collate_packed,
    completion_loss,
    padding_waste,
    tokenize_rows,
)
from services.trainer.checkpoints import CheckpointWriter, load_checkpoint
from services.trainer.distributed import barrier, join, leave, shard, total, wrap
from services.trainer.int8_base import quantize_frozen_base, restore_frozen_base
from shared.limits import TRAIN_PRECISIONS

EXIT_BAD_INPUT = 2


@dataclass
class TrainingParams:
    method: str = "lora"  # lora | full
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    learning_rate: float = 2e-4
    epochs: int = 1
    max_steps: int = 0  # 0 = from epochs
    batch_size: int = 4
    gradient_accumulation: int = 1
    max_length: int = 1024
    seed: int = 0
    length_grouped: bool = True
    # A micro-batch's rows end to end, no padding (collate_packed). Off by default: without varlen
    # flash attention the packed row's attention is quadratic in its whole length, which cost 4x a
    # padded step on a tiny model on the CPU; length grouping already keeps padding near 1-3%.
    packing: bool = False
    # LoRA on a CPU: the frozen base's matmuls in int8 (int8_base.py); ignored on a GPU and for full.
    int8_base: bool = False
    checkpoint_every: int = 50
    merge: bool = False
    warmup_ratio: float = 0.05
    # The matmuls' number format: auto = bf16 on a GPU that has it, else fp32. Whatever it is, the
    # weights being trained stay fp32 (master weights) and bf16 runs under autocast: AdamW on bf16
    # parameters rounds away any update under about 1/256 of a weight, common at full fine-tuning's
    # learning rates. Only a frozen base (LoRA) is held in bf16.
    precision: str = "auto"
    # Recompute each layer's activations in the backward pass instead of keeping them: memory for
    # activations drops from every layer's to one layer's (most of a LoRA run's RSS on a CPU at
    # 1,000-token rows), at about a third more compute.
    gradient_checkpointing: bool = False


@dataclass
class TrainSpec:
    job_id: str
    base_model: str
    dataset_path: str
    dataset_hash: str
    output_dir: str
    work_dir: str
    version: str
    run_id: str = ""
    round: int = 0
    parent_version: str = ""
    parent_path: str = ""
    models_dir: str = ""
    params: TrainingParams = field(default_factory=TrainingParams)

    @classmethod
    def load(cls, path: Path | str) -> TrainSpec:
        data = json.loads(Path(path).read_text())
        data["params"] = TrainingParams(**data.get("params", {}))
        return cls(**data)

    def dump(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))


class BadInput(Exception):
    """The job cannot run as specified (exit code 2, no retry)."""


def _progress(work_dir: Path, **event: Any) -> None:
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports for all
        return
    event["time"] = time.time()
    with open(work_dir / "progress.jsonl", "a") as handle:
        handle.write(json.dumps(event) + "\n")
    print(json.dumps(event), flush=True)


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _code_version() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                cwd=Path(__file__).resolve().parent,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def compute_dtype(precision: str, device: str) -> Any:
    """The matmuls' format under autocast: auto = bf16 on a GPU that supports it, else fp32."""
    import torch

    if precision not in TRAIN_PRECISIONS:
        raise BadInput(f"precision must be one of {', '.join(TRAIN_PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    return torch.bfloat16 if precision == "bf16" else torch.float32


def _load_model(spec: TrainSpec, device: str, dtype: Any) -> tuple[Any, Any]:
    from shared.packaged_models import load_causal_lm, resolve_model

    params = spec.params
    base = resolve_model(spec.base_model, Path(spec.models_dir or "var/models"))
    parent = Path(spec.parent_path) if spec.parent_path else None
    if params.method == "full":
        source = (
            str(parent / "merged")
            if parent and (parent / "merged").is_dir()
            else (str(parent) if parent and (parent / "config.json").is_file() else base)
        )
        model, tokenizer = load_causal_lm(source, dtype=dtype, device=device)
        model.train()
        return model, tokenizer
    if params.method != "lora":
        raise BadInput(f"unknown training method {params.method!r}; expected lora or full")
    from peft import LoraConfig, PeftModel, get_peft_model

    model, tokenizer = load_causal_lm(base, dtype=dtype, device=device)
    if parent and (parent / "adapter_config.json").is_file():
        model = PeftModel.from_pretrained(
            model, str(parent), is_trainable=True
        )  # continue the parent's adapter
    else:
        model = get_peft_model(
            model,
            LoraConfig(
                r=params.lora_rank,
                lora_alpha=params.lora_alpha,
                lora_dropout=params.lora_dropout,
                target_modules=params.target_modules,
                task_type="CAUSAL_LM",
            ),
        )
    model.train()
    return model, tokenizer


def train(spec: TrainSpec) -> Path:
    import torch
    from transformers import get_linear_schedule_with_warmup

    from shared.training_data import file_hash, read_rows

    params = spec.params
    work_dir = Path(spec.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    output_dir = Path(spec.output_dir)
    if (output_dir / "manifest.json").is_file():
        _progress(work_dir, state="SUCCEEDED", message="version already written", step=0)
        return output_dir
    if not Path(spec.dataset_path).is_file():
        raise BadInput(f"dataset {spec.dataset_path} does not exist")
    actual = file_hash(spec.dataset_path)
    if actual != spec.dataset_hash:
        raise BadInput(f"dataset hash mismatch: expected {spec.dataset_hash}, file has {actual}")
    rows = read_rows(spec.dataset_path)
    if not rows:
        raise BadInput("dataset is empty")

    _seed_everything(params.seed)
    cuda = torch.cuda.is_available()
    world = join(cuda)  # one process, or this one's place among torchrun's
    device = world.device(cuda)
    device_type = "cuda" if cuda else "cpu"
    dtype = compute_dtype(params.precision, device_type)
    if not cuda:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // world.size))
    # Trained weights in fp32 always; a LoRA run's frozen base in the compute format (never updated;
    # PEFT keeps the adapters themselves in fp32).
    weights_dtype = torch.float32 if params.method == "full" else dtype
    model, tokenizer = _load_model(spec, device, weights_dtype)
    if params.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    int8_base = params.int8_base and params.method == "lora" and not cuda
    try:
        swapped = quantize_frozen_base(model) if int8_base else []
    except RuntimeError as exc:  # no int8 kernels in this torch build: the job's input is wrong here
        raise BadInput(str(exc)) from exc
    examples = tokenize_rows(rows, tokenizer, params.max_length)
    lengths = [len(e[0]) for e in examples]
    batches_per_epoch = math.ceil(len(examples) / params.batch_size)
    total_steps = params.max_steps or max(
        1, math.ceil(batches_per_epoch * params.epochs / params.gradient_accumulation)
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(params.warmup_ratio * total_steps), total_steps
    )

    resumed = load_checkpoint(work_dir, model, optimizer, scheduler)
    step, epoch, cursor = (resumed["step"], resumed["epoch"], resumed["cursor"]) if resumed else (0, 0, 0)
    losses: list[float] = list(resumed["losses"]) if resumed else []
    tokens_seen = resumed["tokens_seen"] if resumed else 0
    _progress(
        work_dir,
        state="RUNNING",
        step=step,
        total_steps=total_steps,
        resumed=bool(resumed),
        device=device,
        examples=len(examples),
        padding_waste=round(
            padding_waste(
                lengths, batch_order(lengths, params.batch_size, params.seed, 0, params.length_grouped)
            ),
            4,
        ),
    )
    checkpoints = CheckpointWriter(work_dir)
    started = time.perf_counter()
    tokens_this_run = 0
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    loss_of = wrap(model, completion_loss, world, cuda)  # through DDP when there are several ranks
    while step < total_steps:
        batches = batch_order(lengths, params.batch_size, params.seed, epoch, params.length_grouped)
        optimizer.zero_grad(set_to_none=True)
        accumulated, micro = 0.0, 0
        while cursor < len(batches) and step < total_steps:
            mine, real = shard(batches[cursor], world)
            rows = collate_packed(examples, mine) if params.packing else collate(examples, mine, pad_id)
            batch = {k: v.to(device) for k, v in rows.items()}
            cursor += 1
            last = micro + 1 == params.gradient_accumulation or cursor == len(batches)
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
            tokens_seen += tokens
            tokens_this_run += tokens
            if last:
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                losses.append(accumulated / micro)
                elapsed = time.perf_counter() - started
                rate = tokens_this_run / elapsed if elapsed else 0.0
                per_step = elapsed / max(1, step - (resumed["step"] if resumed else 0))
                _progress(
                    work_dir,
                    state="RUNNING",
                    step=step,
                    total_steps=total_steps,
                    loss=round(losses[-1], 5),
                    tokens_per_second=round(rate, 1),
                    eta_seconds=round(per_step * (total_steps - step), 1),
                )
                accumulated, micro = 0.0, 0
                if (
                    world.leader
                    and params.checkpoint_every
                    and step % params.checkpoint_every == 0
                    and step < total_steps
                ):
                    checkpoints.save(
                        model,
                        optimizer,
                        scheduler,
                        {
                            "step": step,
                            "epoch": epoch,
                            "cursor": cursor,
                            "losses": losses,
                            "tokens_seen": tokens_seen,
                        },
                    )
        if cursor >= len(batches):
            epoch, cursor = epoch + 1, 0

    checkpoints.wait()
    train_seconds = time.perf_counter() - started
    restore_frozen_base(swapped)  # what is saved or merged is the model's own weights
    if not world.leader:  # rank 0 writes the version once; the others wait for it and leave
        barrier(world)
        leave(world)
        return output_dir
    _write_version(
        spec,
        model,
        tokenizer,
        {
            "final_loss": losses[-1] if losses else None,
            "first_loss": losses[0] if losses else None,
            "losses": [round(x, 5) for x in losses],
            "steps": step,
            "tokens_seen": tokens_seen,
            "train_seconds_this_run": round(train_seconds, 2),
            "tokens_per_second": round(tokens_this_run / train_seconds, 1) if train_seconds else None,
            "device": device,
            "processes": world.size,
            "dtype": str(dtype).replace("torch.", ""),  # the matmuls'
            "weights_dtype": str(weights_dtype).replace("torch.", ""),
            "activation_checkpointing": bool(getattr(model, "is_activation_checkpointing", False)),
            "int8_base": int8_base,
            "examples": len(examples),
            "padding_waste": round(
                padding_waste(
                    lengths, batch_order(lengths, params.batch_size, params.seed, 0, params.length_grouped)
                ),
                4,
            ),
        },
    )
    shutil.rmtree(work_dir / "checkpoint", ignore_errors=True)
    _progress(
        work_dir, state="SUCCEEDED", step=step, total_steps=total_steps, loss=losses[-1] if losses else None
    )
    barrier(world)
    leave(world)
    return output_dir


def _write_version(spec: TrainSpec, model: Any, tokenizer: Any, metrics: dict[str, Any]) -> None:
    from shared.training_data import prompt_settings, read_rows

    rows = read_rows(spec.dataset_path)
    output_dir = Path(spec.output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if spec.params.merge and spec.params.method == "lora":
            merged = model.merge_and_unload()
            merged.save_pretrained(tmp / "merged", safe_serialization=True)
            tokenizer.save_pretrained(tmp / "merged")
        manifest = {
            "version": spec.version,
            "base_model": spec.base_model,
            "parent_version": spec.parent_version or None,
            "run_id": spec.run_id,
            "round": spec.round,
            "dataset_hash": spec.dataset_hash,
            "dataset_size": len(rows),
            "prompt": prompt_settings(rows),  # the prompt this version must always be asked with
            "method": spec.params.method,
            "adapter": spec.params.method == "lora",
            "hyperparameters": asdict(spec.params),
            "metrics": metrics,
            "code_version": _code_version(),
            "created_at": datetime.now(UTC).isoformat(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        os.rename(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    spec = TrainSpec.load(args.spec)
    try:
        train(spec)
    except BadInput as exc:
        Path(spec.work_dir).mkdir(parents=True, exist_ok=True)
        _progress(Path(spec.work_dir), state="FAILED", error=str(exc))
        print(f"bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
