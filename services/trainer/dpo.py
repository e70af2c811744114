"""The preference phase of `method: dpo`: after the round's supervised fine-tuning, the same LoRA
adapter is trained further on (prompt, chosen, rejected) rows by TRL's DPOTrainer, against the
supervised model as the reference (a frozen merged copy), so a version stays one adapter over its
base. Checkpoints every `checkpoint_every` steps under work_dir/dpo; a job killed in this phase
resumes from the last one (Hugging Face Trainer's own resume)."""

from __future__ import annotations

import copy
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.trainer.job_spec import TrainingParams

PHASE_DIR = "dpo"


def preference_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The dataset's preference rows (a dpo round's frozen set holds both kinds)."""
    return [r for r in rows if "chosen" in r and "rejected" in r]


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint written whole (the Trainer writes trainer_state.json last); newer ones a
    kill cut short are removed, so resuming never reads half a checkpoint."""
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.rsplit("-", 1)[-1]), reverse=True)
    for checkpoint in found:
        try:
            json.loads((checkpoint / "trainer_state.json").read_text())
        except (OSError, ValueError):
            shutil.rmtree(checkpoint, ignore_errors=True)
            continue
        return str(checkpoint)
    return None


def dpo_steps(pairs: int, params: TrainingParams) -> int:
    return params.max_steps or max(
        1, math.ceil(math.ceil(pairs / params.batch_size) * params.epochs / params.gradient_accumulation)
    )


def dpo_config(params: TrainingParams, out: Path, steps: int, device: str) -> Any:
    """TRL's DPOConfig from the job's params. Every field TRL defaults differently from the
    supervised phase is set here: TRL turns gradient checkpointing on by default, which made the
    preference phase recompute every activation although the run asked for none."""
    import torch
    from trl import DPOConfig

    return DPOConfig(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=params.batch_size,
        gradient_accumulation_steps=params.gradient_accumulation,
        learning_rate=params.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=int(params.warmup_ratio * steps),
        beta=params.dpo_beta,
        max_length=params.max_length,
        seed=params.seed,
        save_steps=params.checkpoint_every or steps,
        save_total_limit=1,
        logging_steps=1,
        report_to=[],
        disable_tqdm=True,
        use_cpu=device == "cpu",
        bf16=device != "cpu" and torch.cuda.is_bf16_supported(),
        gradient_checkpointing=params.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if params.gradient_checkpointing else None,
    )


def train_dpo(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    params: TrainingParams,
    work_dir: Path,
    device: str,
    report: Callable[..., None],
) -> dict[str, Any]:
    """Train the model's adapter on the preference rows in place; the phase's figures."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import DPOTrainer

    reference = copy.deepcopy(model).merge_and_unload()  # the supervised model, frozen
    reference.eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    steps = dpo_steps(len(rows), params)
    out = work_dir / PHASE_DIR
    resume = last_complete_checkpoint(out)

    class Progress(TrainerCallback):
        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any
        ) -> None:
            if logs and "loss" in logs:
                report(
                    state="RUNNING",
                    phase="dpo",
                    step=state.global_step,
                    total_steps=steps,
                    loss=round(float(logs["loss"]), 5),
                )

    config = dpo_config(params, out, steps, device)
    data = Dataset.from_list(
        [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=reference,
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[Progress()],
    )
    report(
        state="RUNNING", phase="dpo", step=0, total_steps=steps, resumed_from=resume or "", pairs=len(rows)
    )
    trainer.train(resume_from_checkpoint=resume)
    history = trainer.state.log_history
    losses = [round(float(h["loss"]), 5) for h in history if "loss" in h]
    margins = [float(h["rewards/margins"]) for h in history if "rewards/margins" in h]
    return {
        "dpo_pairs": len(rows),
        "dpo_steps": trainer.state.global_step,
        "dpo_resumed_from_step": int(Path(resume).name.rsplit("-", 1)[-1]) if resume else 0,
        "dpo_losses": losses,
        "dpo_first_loss": losses[0] if losses else None,
        "dpo_final_loss": losses[-1] if losses else None,
        "dpo_final_reward_margin": round(margins[-1], 5) if margins else None,
        "dpo_beta": params.dpo_beta,
    }
