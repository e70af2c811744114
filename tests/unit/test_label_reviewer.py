"""Who reviews a question-only round's labels (label_reviewer): the base only where a trained
version writes and no teacher does; the writer otherwise. Read from a real store; the generation
service is not needed to decide (tests/e2e/test_controller.py checks the reviews' requests)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.controller.settings import RunSettings
from services.controller.steps.writer import base_reviewer
from services.controller.versions import ServedModel, base_version_id
from shared.store import ModelVersion, Run, Store


@pytest.fixture
def step(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    with store.session() as s:
        s.add(ModelVersion(version=base_version_id("/models/mine"), base="/models/mine", artifact_path=""))
        s.add(ModelVersion(version="mine-r1", base="/models/mine", artifact_path="/v/mine-r1"))
        s.add(
            ModelVersion(
                version="mine-full",
                base="/models/mine",
                artifact_path="/v/mine-full",
                hyperparameters={"method": "full"},
            )
        )
        s.flush()
        s.add(Run(id="untrained", lineage="x", serving_version=base_version_id("/models/mine")))
        s.add(Run(id="trained", lineage="y", serving_version="mine-r1"))
        s.add(Run(id="full", lineage="z", serving_version="mine-full"))
    yield SimpleNamespace(ctx=SimpleNamespace(store=store))
    store.close()


def test_the_base_reviews_only_what_a_trained_version_wrote(step):
    base = ServedModel(base_version_id("/models/mine"), "/models/mine")
    as_base = RunSettings(label_reviewer="base")
    assert base_reviewer(step, "trained", as_base) == base
    assert base_reviewer(step, "full", as_base) == base  # a full fine-tune's base too
    assert base_reviewer(step, "untrained", as_base) is None  # the base writes: it reviews as writer
    assert base_reviewer(step, "trained", RunSettings(label_reviewer="writer")) is None
    with_teacher = RunSettings(label_reviewer="base", teacher_model="/models/teacher")
    assert base_reviewer(step, "trained", with_teacher) is None  # a teacher reviews what it writes
