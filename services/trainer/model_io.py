"""What a training job reads and writes besides batches: the model to train (the base with a fresh
LoRA adapter, the parent's adapter to continue, or the parent's full weights) and the finished
version folder, written to a temporary folder and renamed into place with its manifest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.trainer.job_spec import BadInput, TrainSpec

ADAPTER_METHODS = ("lora", "dpo")  # a LoRA adapter over the base is what these write


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


def load_model(spec: TrainSpec, device: str, dtype: Any) -> tuple[Any, Any]:
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
    if params.method not in ADAPTER_METHODS:
        raise BadInput(f"unknown training method {params.method!r}; expected lora, dpo or full")
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


def write_version(spec: TrainSpec, model: Any, tokenizer: Any, metrics: dict[str, Any]) -> None:
    from shared.training_data import prompt_settings, read_rows

    rows = read_rows(spec.dataset_path)
    output_dir = Path(spec.output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if spec.params.merge and spec.params.method in ADAPTER_METHODS:
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
            "adapter": spec.params.method in ADAPTER_METHODS,
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
