"""The training job's contract: what a caller submits (JobRequest, its parameters held to the recipe's
bounds by check_params) and sees (JobView, Progress), and what the trainer service writes as
SPEC.json for the entrypoint (train.py) to read, with the recipe's defaults. The service imports
this module, never train.py: it does not load torch to describe a job."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared import defaults
from shared.confine import check_name
from shared.errors import InvalidArgument
from shared.limits import MAX_LEARNING_RATE, TRAIN_BOUNDS, TRAIN_METHODS

EXIT_BAD_INPUT = 2


@dataclass
class TrainingParams:
    method: str = defaults.TRAIN_METHOD  # lora | full | dpo (LoRA, then preferences: dpo.py)
    lora_rank: int = 16
    lora_alpha: int = 32
    # 0: peft then adds no dropped copy of each adapted layer's input. On the CPU that copy cost 30% of
    # a LoRA step and 2.4 GiB; a round retrained without it answered all 90 held-out questions alike.
    lora_dropout: float = 0.0
    target_modules: list[str] | str = "all-linear"
    learning_rate: float = defaults.LEARNING_RATE
    epochs: int = defaults.TRAIN_EPOCHS
    max_steps: int = 0  # 0 = from epochs
    batch_size: int = defaults.TRAIN_BATCH_SIZE
    gradient_accumulation: int = 1
    max_length: int = defaults.TRAIN_MAX_TOKENS
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
    precision: str = defaults.TRAIN_PRECISION
    # Recompute each layer's activations in the backward pass instead of keeping them: memory for
    # activations drops from every layer's to one layer's (most of a LoRA run's RSS on a CPU at
    # 1,000-token rows), at about a third more compute.
    gradient_checkpointing: bool = False
    # method dpo: how far the preference loss may move the adapter from the supervised model (TRL's beta)
    dpo_beta: float = 0.1


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


@dataclass
class JobRequest:
    run_id: str
    round: int
    dataset_path: str
    dataset_hash: str
    base_model: str
    version: str = ""
    parent_version: str = ""
    params: TrainingParams = field(default_factory=TrainingParams)
    launcher: str = ""


@dataclass
class JobView:
    job_id: str
    state: str
    run_id: str
    round: int
    dataset_hash: str
    version: str
    artifact_path: str = ""
    error: str = ""
    final_loss: float = 0.0
    manifest_json: str = ""  # the version's manifest once SUCCEEDED (the controller records its facts)


@dataclass
class Progress:
    job_id: str
    state: str
    step: int = 0
    total_steps: int = 0
    loss: float = 0.0
    tokens_per_second: float = 0.0
    eta_seconds: float = 0.0
    job: JobView | None = None


def check_params(params: TrainingParams) -> None:
    """The recipe's bounds (shared/limits.py), checked when a job is submitted."""
    if params.method not in TRAIN_METHODS:
        raise InvalidArgument(f"method must be one of {', '.join(TRAIN_METHODS)}, got {params.method[:40]!r}")
    for name, (low, high) in TRAIN_BOUNDS.items():
        value = getattr(params, name)
        if not low <= value <= high:
            raise InvalidArgument(f"{name} must be within [{low}, {high}], got {value}")
    if not (math.isfinite(params.learning_rate) and 0 < params.learning_rate <= MAX_LEARNING_RATE):
        raise InvalidArgument(f"learning_rate must be within (0, {MAX_LEARNING_RATE:g}]")
    modules = [params.target_modules] if isinstance(params.target_modules, str) else params.target_modules
    for module in modules:
        check_name(module, "target_modules")
