"""What int8 support this machine's torch has: the quantized engine with x86 int8 GEMMs (fbgemm /
x86, which use VNNI dot products where the processor has them). Generation quantizes its Linear
layers with it on CPUs; the trainer runs a LoRA model's frozen base through it."""

from __future__ import annotations

INT8_ENGINES = ("x86", "fbgemm")


def int8_engine() -> str:
    """The quantized engine with x86 int8 kernels that this torch build has, or ''."""
    import torch

    supported = torch.backends.quantized.supported_engines
    return next((engine for engine in INT8_ENGINES if engine in supported), "")
