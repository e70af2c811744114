"""GENERATE's number format (`generate_precision`): which format the writer samples at, given how
the serving slot computes - a copy in the work slot only when the format differs."""

from __future__ import annotations

import pytest

from services.controller.steps.writer import sampling_precision
from shared.pb import generation_pb2


def info(backend: str, device: str, precision: str) -> generation_pb2.ModelInfo:
    return generation_pb2.ModelInfo(backend=backend, device=device, precision=precision)


@pytest.mark.parametrize(
    "wanted,serving,expected",
    [
        ("auto", info("transformers", "cpu", "fp32"), "int8"),  # a CPU samples in int8
        ("auto", info("transformers", "cpu", "int8"), ""),  # already int8: the serving slot writes
        ("auto", info("transformers", "cuda", "bf16"), ""),  # a GPU keeps what serves
        ("auto", info("tgi", "remote", ""), ""),  # a remote server computes at its own precision
        ("int8", info("transformers", "cpu", "fp32"), "int8"),
        ("int8", info("tgi", "remote", ""), "int8"),  # asked outright: the service refuses it, visibly
        ("fp32", info("transformers", "cpu", "int8"), "fp32"),
        ("fp32", info("transformers", "cpu", "fp32"), ""),
    ],
)
def test_generate_samples_in_the_work_slot_only_when_its_format_differs(wanted, serving, expected):
    assert sampling_precision(wanted, serving) == expected
