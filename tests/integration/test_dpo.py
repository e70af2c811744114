"""`method: dpo` in the training entrypoint on a tiny random model: LoRA fine-tuning on the
supervised rows, then TRL's DPO on the preference rows against the fine-tuned model, into one
adapter; and a job killed with -9 in its preference phase resumes there, without fine-tuning again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from services.trainer.train import train
from shared.config import REPO_ROOT as REPO
from shared.training_data import freeze
from tests.support.training_fixtures import ROWS, train_spec

PREFERENCES = [
    {"prompt": row["prompt"], "chosen": row["completion"], "rejected": " SELECT name FROM singer;\n"}
    for row in ROWS
]


def _dataset(tmp_path):
    return freeze([*ROWS, *PREFERENCES], tmp_path / "datasets")


def test_dpo_fine_tunes_then_prefers_the_chosen_sql_in_one_adapter(tmp_path, tiny_base):
    out = train(
        train_spec(tmp_path, tiny_base, _dataset(tmp_path), method="dpo", max_steps=8, learning_rate=1e-2)
    )
    manifest = json.loads((out / "manifest.json").read_text())
    metrics = manifest["metrics"]
    assert manifest["method"] == "dpo" and manifest["adapter"] and manifest["dataset_size"] == 48
    assert metrics["steps"] == 8 and metrics["examples"] == 24  # the supervised phase, on its rows
    assert metrics["dpo_steps"] == 8 and metrics["dpo_pairs"] == 24
    assert abs(metrics["dpo_first_loss"] - 0.6931) < 0.01  # the policy starts as its reference
    assert metrics["dpo_final_loss"] < metrics["dpo_first_loss"] and metrics["dpo_final_reward_margin"] > 0
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in out.iterdir()}
    assert not (tmp_path / "work" / "sft").exists() and not (tmp_path / "work" / "dpo").exists()


def test_a_dpo_job_killed_in_its_preference_phase_resumes_there(tmp_path, tiny_base):
    spec = train_spec(
        tmp_path,
        tiny_base,
        _dataset(tmp_path),
        method="dpo",
        max_steps=12,
        checkpoint_every=4,
        precision="fp32",
    )
    spec_path = tmp_path / "spec.json"
    spec.dump(spec_path)
    command = [sys.executable, "-m", "services.trainer.train", str(spec_path)]
    work = Path(spec.work_dir)
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((work / "dpo").glob("checkpoint-*/trainer_state.json")):
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    written = sorted(
        int(p.parent.name.split("-")[1]) for p in (work / "dpo").glob("checkpoint-*/trainer_state.json")
    )
    assert written and not Path(spec.output_dir).exists()
    before = len((work / "progress.jsonl").read_text().splitlines())
    assert subprocess.run(command, cwd=REPO, capture_output=True, timeout=300).returncode == 0
    after = [json.loads(line) for line in (work / "progress.jsonl").read_text().splitlines()[before:]]
    tuning = [
        e for e in after if e["state"] == "RUNNING" and e.get("loss") is not None and e.get("phase") != "dpo"
    ]
    assert not tuning and after[0]["step"] == 12 and after[0]["resumed"]  # no fine-tuning again
    metrics = json.loads((Path(spec.output_dir) / "manifest.json").read_text())["metrics"]
    assert metrics["dpo_resumed_from_step"] >= written[-1] > 0 and metrics["dpo_steps"] == 12
    assert metrics["steps"] == 12


def test_resume_skips_a_checkpoint_a_kill_cut_short(tmp_path):
    from services.trainer.dpo import last_complete_checkpoint

    for step, whole in ((4, True), (8, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "optimizer.pt").write_bytes(b"x")
        if whole:
            (folder / "trainer_state.json").write_text('{"global_step": 4}')
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-4")
    assert not (tmp_path / "checkpoint-8").exists() and last_complete_checkpoint(tmp_path / "none") is None


def test_the_preference_phase_recomputes_activations_only_when_the_run_asks(tmp_path):
    """TRL's DPOConfig turns gradient checkpointing on by default; the job's own setting decides."""
    from services.trainer.dpo import dpo_config
    from services.trainer.job_spec import TrainingParams

    for asked in (False, True):
        config = dpo_config(TrainingParams(gradient_checkpointing=asked), tmp_path, 4, "cpu")
        assert config.gradient_checkpointing is asked and config.max_steps == 4 and config.use_cpu
