"""What the trainer's tests share: a small training set of question -> SQL rows, a tiny random base
model and a job spec over them (fixtures for tests/integration/test_training.py and
tests/service/test_trainer.py)."""

from __future__ import annotations

import pytest

from services.trainer.job_spec import TrainingParams, TrainSpec
from shared.training_data import freeze
from testbed.tiny_models import make_tiny_model

ROWS = [
    {
        "prompt": f"-- Question: How many singers are older than {i}?\n-- SQL:",
        "completion": f" SELECT count(*) FROM singer WHERE age > {i};\n",
    }
    for i in range(24)
]

# Settings under which one process and two DDP ranks train the same run.
DDP = dict(batch_size=4, lora_dropout=0.0, precision="fp32", learning_rate=5e-3)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("base") / "tiny")


@pytest.fixture
def dataset(tmp_path):
    return freeze(ROWS, tmp_path / "datasets")


def train_spec(tmp_path, tiny_base, dataset, **params) -> TrainSpec:
    path, digest = dataset
    defaults = dict(max_steps=30, batch_size=4, learning_rate=5e-3, checkpoint_every=5, lora_rank=8, seed=7)
    defaults.update(params)
    return TrainSpec(
        job_id="job",
        base_model=str(tiny_base),
        dataset_path=str(path),
        dataset_hash=digest,
        output_dir=str(tmp_path / "versions" / "v1"),
        work_dir=str(tmp_path / "work"),
        version="v1",
        run_id="run",
        round=1,
        params=TrainingParams(**defaults),
    )
