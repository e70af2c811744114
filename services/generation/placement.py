"""Where, and in which number format, the in-process backend runs; chosen once at start from what the
machine offers, and reported by DescribeModel.

- device: CUDA when a GPU is present, else the CPU.
- precision: bf16 (fp16 without bf16 support) on a GPU; fp32 on a CPU. int8 on a CPU is a setting
  (`generation.precision: int8`, quantize.py): decoding steps in weight-only int8, prefill in
  SmoothQuant-smoothed per-token int8 (shared/int8_kernels.py), on kernels that use the processor's int8
  dot products (VNNI). On the default 0.5B model it answers the held-out questions 2.2x faster at
  0.533 EX against fp32's 0.544 (1 win / 2 losses of 90; docs/benchmarks.md, "Benchmarks"): near, not equal,
  so `auto` does not pick it. Nor bf16: without AMX tiles torch's bf16 matmuls ran at an eighth of
  fp32's speed here.
- batch size: on a GPU, as many sequences as the free memory holds (KV cache and activations);
  on a CPU the configured size (`generation.max_batch_size`, 32: with finished rows leaving the
  batch and the KV cache written in place, larger batches pay there too)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from shared import defaults
from shared.int8_kernels import int8_engine
from shared.limits import GENERATION_PRECISIONS

log = logging.getLogger("sqldistill.generation")

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = GENERATION_PRECISIONS
GPU_MEMORY_FRACTION = 0.8  # of the free memory, for the KV cache and activations of one batch
GPU_MAX_BATCH_SIZE = 256


@dataclass(frozen=True)
class Placement:
    device: str  # cpu | cuda
    precision: str  # fp32 | bf16 | fp16 | int8

    @property
    def load_dtype(self) -> Any:
        """The dtype weights are loaded in (int8 quantizes fp32 weights after loading)."""
        import torch

        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision, torch.float32)


def resolve_placement(device: str = "auto", precision: str = defaults.GENERATION_PRECISION) -> Placement:
    """The placement for the requested device and precision; `auto` picks what this machine runs
    fastest at full quality (see the module docstring). Impossible requests fail with a reason."""
    import torch

    from shared.errors import FailedPrecondition  # here: gpu_bench imports this module without grpc

    if device not in DEVICES:
        raise ValueError(f"generation device must be one of {', '.join(DEVICES)}, got {device!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"generation precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise FailedPrecondition("generation device cuda was asked for, but no GPU is available")
    where = "cuda" if device == "cuda" or (device == "auto" and cuda) else "cpu"
    if where == "cuda":
        if precision == "int8":
            raise FailedPrecondition("int8 generation runs on the CPU only; on a GPU use bf16 or fp16")
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return Placement("cuda", precision)
    if precision == "int8" and not int8_engine():
        raise FailedPrecondition("int8 generation needs torch's x86 or fbgemm quantized engine")
    if precision == "auto":  # int8 only where asked for: it cost EX on the default model (below)
        precision = "fp32"
    return Placement("cpu", precision)


def gpu_batch_size(
    config: Any, sequence_tokens: int, free_bytes: int, dtype_bytes: int = 2, cap: int = GPU_MAX_BATCH_SIZE
) -> int:
    """How many sequences of `sequence_tokens` (prompt + new tokens) fit in a fraction of
    `free_bytes`: each needs its KV cache (2 x layers x KV heads x head size per token) and, at its
    widest, the prefill's activations (hidden and MLP widths per token) plus one row of fp32 logits
    for sampling. At least 1 (the call then fails loudly rather than never running)."""
    hidden = int(config.hidden_size)
    heads = int(config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", 0) or hidden // heads)
    kv_heads = int(getattr(config, "num_key_value_heads", 0) or heads)
    layers = int(config.num_hidden_layers)
    intermediate = int(getattr(config, "intermediate_size", 0) or 4 * hidden)
    kv_per_token = 2 * layers * kv_heads * head_dim * dtype_bytes
    activations_per_token = (4 * hidden + 2 * intermediate) * dtype_bytes
    logits = int(config.vocab_size) * 4
    per_sequence = sequence_tokens * (kv_per_token + activations_per_token) + logits
    fits = math.floor(free_bytes * GPU_MEMORY_FRACTION / per_sequence)
    return max(1, min(cap, fits))
