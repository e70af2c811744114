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
import json
import os
import random
import shutil
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from services.trainer.batches import batch_order, padding_waste, tokenize_rows
from services.trainer.checkpoints import CheckpointWriter, load_checkpoint
from services.trainer.distributed import barrier, join, leave
from services.trainer.dpo import PHASE_DIR, preference_rows, train_dpo
from services.trainer.int8_base import quantize_frozen_base, restore_frozen_base
from services.trainer.job_spec import EXIT_BAD_INPUT, BadInput, TrainSpec
from services.trainer.model_io import ADAPTER_METHODS, load_model, write_version
from services.trainer.sft import Position, total_steps, train_sft
from shared.limits import TRAIN_PRECISIONS


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


def compute_dtype(precision: str, device: str) -> Any:
    """The matmuls' format under autocast: auto = bf16 on a GPU that supports it, else fp32."""
    import torch

    if precision not in TRAIN_PRECISIONS:
        raise BadInput(f"precision must be one of {', '.join(TRAIN_PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    return torch.bfloat16 if precision == "bf16" else torch.float32


SFT_DONE = "sft"  # work_dir/sft: a dpo job's supervised adapter, saved before its preference phase


def _save_sft(model: Any, folder: Path, figures: dict[str, Any]) -> None:
    """The supervised adapter and its figures, whole or not at all."""
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    (staging / "sft.json").write_text(json.dumps(figures))
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(staging, folder)


def _read_dataset(spec: TrainSpec) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The frozen dataset's supervised rows and (for dpo) preference rows, after its hash is checked."""
    from shared.training_data import file_hash, read_rows

    if not Path(spec.dataset_path).is_file():
        raise BadInput(f"dataset {spec.dataset_path} does not exist")
    actual = file_hash(spec.dataset_path)
    if actual != spec.dataset_hash:
        raise BadInput(f"dataset hash mismatch: expected {spec.dataset_hash}, file has {actual}")
    rows = read_rows(spec.dataset_path)
    preferences = preference_rows(rows) if spec.params.method == "dpo" else []
    rows = [r for r in rows if "completion" in r]  # supervised rows (a dpo set also holds preferences)
    if not rows and not preferences:
        raise BadInput("dataset is empty")
    return rows, preferences


def train(spec: TrainSpec) -> Path:
    """Train the spec's version and write its folder (rank 0); resumes a killed job where it stopped."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    params = spec.params
    work_dir = Path(spec.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    output_dir = Path(spec.output_dir)
    report = partial(_progress, work_dir)
    if (output_dir / "manifest.json").is_file():
        report(state="SUCCEEDED", message="version already written", step=0)
        return output_dir
    rows, preferences = _read_dataset(spec)

    _seed_everything(params.seed)
    cuda = torch.cuda.is_available()
    world = join(cuda)  # one process, or this one's place among torchrun's
    device = world.device(cuda)
    dtype = compute_dtype(params.precision, "cuda" if cuda else "cpu")
    if not cuda:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // world.size))
    # Trained weights in fp32 always; a LoRA run's frozen base in the compute format (never updated;
    # PEFT keeps the adapters themselves in fp32).
    weights_dtype = torch.float32 if params.method == "full" else dtype
    if params.method == "dpo" and world.size > 1:
        raise BadInput("method dpo trains in one process")
    sft_done = work_dir / SFT_DONE  # a dpo job killed in its preference phase: the supervised part is done
    finished_sft = params.method == "dpo" and (sft_done / "sft.json").is_file()
    model, tokenizer = load_model(
        replace(spec, parent_path=str(sft_done)) if finished_sft else spec, device, weights_dtype
    )
    if params.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    int8_base = params.int8_base and params.method in ADAPTER_METHODS and not cuda
    try:
        swapped = quantize_frozen_base(model) if int8_base else []
    except RuntimeError as exc:  # no int8 kernels in this torch build: the job's input is wrong here
        raise BadInput(str(exc)) from exc
    examples = tokenize_rows(rows, tokenizer, params.max_length)
    lengths = [len(e[0]) for e in examples]
    waste = round(
        padding_waste(
            lengths, batch_order(lengths, params.batch_size, params.seed, 0, params.length_grouped)
        ),
        4,
    )
    steps = total_steps(len(examples), params)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(params.warmup_ratio * steps), steps)

    saved = None if finished_sft else load_checkpoint(work_dir, model, optimizer, scheduler)
    position = Position.from_checkpoint(saved) if saved else Position()
    if finished_sft:
        done = json.loads((sft_done / "sft.json").read_text())
        position = Position(step=done["steps"], losses=done["losses"], tokens_seen=done["tokens_seen"])
    report(
        state="RUNNING",
        step=position.step,
        total_steps=steps,
        resumed=bool(saved) or finished_sft,
        device=device,
        examples=len(examples),
        padding_waste=waste,
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    throughput = train_sft(
        model,
        examples,
        params,
        world,
        device,
        dtype,
        optimizer,
        scheduler,
        position,
        CheckpointWriter(work_dir),
        report,
        pad_id,
    )
    restore_frozen_base(swapped)  # what is saved or merged is the model's own weights
    losses = position.losses
    preference_metrics: dict[str, Any] = {}
    if params.method == "dpo" and preferences:
        if not finished_sft:
            _save_sft(
                model,
                sft_done,
                {"steps": position.step, "losses": losses, "tokens_seen": position.tokens_seen},
            )
        preference_metrics = train_dpo(model, tokenizer, preferences, params, work_dir, device, report)
    if not world.leader:  # rank 0 writes the version once; the others wait for it and leave
        barrier(world)
        leave(world)
        return output_dir
    write_version(
        spec,
        model,
        tokenizer,
        {
            "final_loss": losses[-1] if losses else None,
            "first_loss": losses[0] if losses else None,
            "losses": [round(x, 5) for x in losses],
            "steps": position.step,
            "tokens_seen": position.tokens_seen,
            "train_seconds_this_run": round(throughput.seconds, 2),
            "tokens_per_second": throughput.tokens_per_second,
            "device": device,
            "processes": world.size,
            "dtype": str(dtype).replace("torch.", ""),  # the matmuls'
            "weights_dtype": str(weights_dtype).replace("torch.", ""),
            "activation_checkpointing": bool(getattr(model, "is_activation_checkpointing", False)),
            "int8_base": int8_base,
            "examples": len(examples),
            **preference_metrics,
            "padding_waste": waste,
        },
    )
    shutil.rmtree(work_dir / "checkpoint", ignore_errors=True)
    shutil.rmtree(sft_done, ignore_errors=True)
    shutil.rmtree(work_dir / PHASE_DIR, ignore_errors=True)
    report(state="SUCCEEDED", step=position.step, total_steps=steps, loss=losses[-1] if losses else None)
    barrier(world)
    leave(world)
    return output_dir


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
