"""The generation backend's number format on a real (tiny, random) model: int8 replaces every linear
layer and says so, and `auto` loads fp32 on a CPU, int8 only when asked for (the choice itself:
tests/unit/test_placement.py)."""

from __future__ import annotations

import pytest

from services.generation.backends import ModelSpec, Sampling
from services.generation.transformers_backend import TransformersBackend
from testbed.tiny_models import make_tiny_model

PROMPTS = [
    "-- Question: How many singers are there?\n-- SQL:",
    "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "a", seed=0)


def test_int8_backend_quantizes_every_linear_layer_and_reports_it(tiny_model, tmp_path):
    import torch

    backend = TransformersBackend(tmp_path, ModelSpec(str(tiny_model)), precision="int8", device="cpu")
    model = backend._current.model
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    assert any(type(m).__name__ == "Int8Linear" for m in model.modules())
    info = backend.info()
    assert (info.device, info.precision) == ("cpu", "int8")
    assert info.num_parameters > 0  # counted before quantization packs the weights
    sampling = Sampling(temperature=0.0, max_new_tokens=8, stop=())
    out = backend.generate(PROMPTS, 2, sampling)
    assert [len(samples) for samples in out] == [2, 2]
    assert backend.generate(PROMPTS, 2, sampling) == out  # the same call gives the same output
    fp32 = TransformersBackend(tmp_path, ModelSpec(str(tiny_model)), precision="fp32", device="cpu")
    assert fp32.info().precision == "fp32"
    assert any(type(m) is torch.nn.Linear for m in fp32._current.model.modules())


def test_auto_precision_loads_fp32_on_a_cpu_and_int8_only_when_asked(tmp_path, tiny_model):
    models = tmp_path / "models"
    backend = TransformersBackend(models, ModelSpec(str(tiny_model)), device="cpu")  # a user model, auto
    assert backend.info().precision == "fp32"
    asked = TransformersBackend(models, ModelSpec(str(tiny_model)), precision="int8", device="cpu")
    assert asked.info().precision == "int8"  # asked for, it is used


def test_an_int8_reload_of_the_same_files_reuses_their_calibration(tiny_model, tmp_path):
    """GENERATE loads the serving version at int8 each round: the fp32 calibration pass (most of the
    load) runs once per model files, and the cached scales give the same model."""
    import os

    backend = TransformersBackend(tmp_path, ModelSpec(str(tiny_model)), precision="int8", device="cpu")
    sampling = Sampling(temperature=0.0, max_new_tokens=8, stop=())
    first = backend.generate(PROMPTS, 1, sampling)
    assert backend.calibration.calibrated == 1
    backend.load(ModelSpec(str(tiny_model), version="again", precision="int8"))
    assert backend.calibration.calibrated == 1  # same files: no second pass
    assert backend.generate(PROMPTS, 1, sampling) == first
    other = make_tiny_model(tmp_path / "b", seed=1)
    backend.load(ModelSpec(str(other), precision="int8"))
    assert backend.calibration.calibrated == 2  # other files: their own scales
    weights = next(p for p in tiny_model.iterdir() if p.suffix == ".safetensors")
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1_000_000_000))
    backend.load(ModelSpec(str(tiny_model), precision="int8"))
    assert backend.calibration.calibrated == 3  # rewritten in place: calibrated again
    backend.load(ModelSpec(str(tiny_model), precision="fp32"))
    assert backend.calibration.calibrated == 3  # fp32 needs no scales
