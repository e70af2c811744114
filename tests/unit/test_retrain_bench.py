"""The retrain benchmark's settings (benchmarks/retrain.py): `--set name=value` typed as the
training param it names, and a name the trainer does not have refused before anything trains."""

from __future__ import annotations

import pytest

from benchmarks.retrain import changed_params
from services.trainer.job_spec import TrainingParams


def test_settings_are_typed_as_the_params_they_change():
    params = changed_params(TrainingParams(), ["epochs=2", "learning_rate=1e-4", "packing=true"])
    assert (params.epochs, params.learning_rate, params.packing) == (2, 1e-4, True)
    assert params.lora_rank == TrainingParams().lora_rank  # the rest as the round trained
    with pytest.raises(SystemExit, match="no field 'epoch'"):
        changed_params(TrainingParams(), ["epoch=2"])
