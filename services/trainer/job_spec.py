"""The training job's contract: what the trainer service writes as SPEC.json and the entrypoint
(train.py) reads, with the recipe's defaults. The service imports this module only: it never loads
torch to describe a job."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared import defaults

EXIT_BAD_INPUT = 2


@dataclass
class TrainingParams:
    method: str = defaults.TRAIN_METHOD  # lora | full
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    learning_rate: float = defaults.LEARNING_RATE
    epochs: int = defaults.TRAIN_EPOCHS
    max_steps: int = 0  # 0 = from epochs
    batch_size: int = defaults.TRAIN_BATCH_SIZE
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
    precision: str = defaults.TRAIN_PRECISION
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
