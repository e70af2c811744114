"""int8 matmuls on CPUs, for generation (every Linear layer) and LoRA training (the frozen base).

Two int8 kernels of torch's, each where it pays (measured on the 2-core machine docs/benchmarks.md uses,
0.5B model shapes):
- per-token dynamic int8 (`rowwise_matmul`): torch's x86 / fbgemm quantized GEMM with int32
  accumulation (VNNI dot products where the processor has them); 1.9x fp32's speed at 512 rows
  (prefill, training). Weights are quantized once, per output channel. Activations are quantized
  per row (token), not per tensor as torch's dynamic quantization does: a row's result does not
  depend on the other rows of its batch. Activation outlier channels (max/median up to 95x in
  the 0.5B's MLP inputs) cost the other channels their precision; SmoothQuant's smoothing
  (`smoothing_scales`) moves part of each outlier channel's range into the weights first.
- weight-only int8 (`weight_only_matmul`): int8 weights, bf16 activations, fp32 accumulation;
  2.6-3.2x fp32's speed for 8 rows (one decoding step of a batch) and no activation rounding
  beyond bf16's, but its cost grows with every row (no faster than fp32 from about 32 rows).

`int8_linear` uses the second for decoding (one position per row) and the first for prefill."""

from __future__ import annotations

from typing import Any

INT8_ENGINES = ("x86", "fbgemm")
SMOOTHING_ALPHA = 0.5  # SmoothQuant's migration strength: the outlier range split evenly between x and W
WEIGHT_ONLY_ALIGNMENT = 8  # torch's CPU weight-only kernel reads inputs in blocks of 8 (others crash)


def int8_engine() -> str:
    """The quantized engine with x86 int8 kernels that this torch build has, or ''."""
    import torch

    supported = torch.backends.quantized.supported_engines
    return next((engine for engine in INT8_ENGINES if engine in supported), "")


def use_int8_engine() -> None:
    import torch

    engine = int8_engine()
    if not engine:
        raise RuntimeError("int8 matmuls need torch's x86 or fbgemm quantized engine")
    torch.backends.quantized.engine = engine


def channel_scales(weight: Any) -> Any:
    """One symmetric int8 scale per output channel (row) of a float (out, in) weight."""
    return weight.abs().amax(dim=1).clamp(min=1e-12) / 127


def pack_weight(weight: Any) -> Any:
    """A (out, in) weight quantized to int8 with one scale per output channel, packed for the GEMM."""
    import torch

    weight = weight.detach().float()
    scales = channel_scales(weight)
    zero_points = torch.zeros_like(scales, dtype=torch.long)
    quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(quantized, None)


def rowwise_matmul(x: Any, packed: Any) -> Any:
    """x W^T for a packed W, with x quantized per row (see the module docstring). Each row is scaled
    to a largest magnitude of 1, and one anchor row holding +1 and -1 pins the range the kernel
    quantizes over to exactly [-1, 1] whatever the batch holds: a row's result is then the same
    alone or beside any others."""
    import torch

    rows = x.reshape(-1, x.shape[-1])
    scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=1e-30)
    anchor = torch.zeros(1, rows.shape[1], dtype=rows.dtype, device=rows.device)
    anchor[0, 0], anchor[0, -1] = 1.0, -1.0
    # reduce_range: 7-bit activations, so the kernels' 16-bit intermediate sums never saturate
    # (without it the error per matmul measured 10% instead of 1.5%).
    product = torch.ops.quantized.linear_dynamic(torch.cat([rows / scale, anchor]), packed, True)
    return (product[:-1] * scale).reshape(*x.shape[:-1], product.shape[-1])


def smoothing_scales(activation_absmax: Any, weight: Any, alpha: float = SMOOTHING_ALPHA) -> Any:
    """Per input channel j, s_j = max|x_j|^alpha / max|W_j|^(1 - alpha): (x / s) (W s)^T is x W^T,
    with the activations' outlier channels flattened and the weights' columns grown to match
    (SmoothQuant, Xiao et al. 2023). `activation_absmax` comes from calibration text."""
    weight_absmax = weight.detach().float().abs().amax(dim=0).clamp(min=1e-5)
    return (activation_absmax.float().clamp(min=1e-5).pow(alpha) / weight_absmax.pow(1 - alpha)).clamp(
        min=1e-5
    )


def quantize_weight_only(weight: Any) -> tuple[Any, Any]:
    """(int8 weight, bf16 scale per output channel) for `weight_only_matmul`."""
    import torch

    weight = weight.detach().float()
    scales = channel_scales(weight)
    quantized = torch.round(weight / scales[:, None]).clamp(-127, 127).to(torch.int8)
    return quantized, scales.to(torch.bfloat16)


def weight_only_matmul(x: Any, quantized: Any, scales: Any) -> Any:
    """x W^T in fp32 from int8 W (torch's CPU weight-only kernel, the one torchao's int8
    weight-only mode runs on); x's in-features must be a multiple of WEIGHT_ONLY_ALIGNMENT."""
    import torch

    rows = x.reshape(-1, x.shape[-1]).to(torch.bfloat16).contiguous()
    product = torch._weight_int8pack_mm(rows, quantized, scales)
    return product.float().reshape(*x.shape[:-1], product.shape[-1])


def int8_linear(linear: Any, activation_absmax: Any = None) -> Any:
    """An inference stand-in for a torch.nn.Linear (no gradients), computed in int8: weight-only
    for decoding steps (one position per row), smoothed per-token int8 otherwise. Without
    `activation_absmax` (no calibration) the per-token path is not smoothed."""
    import torch

    class Int8Linear(torch.nn.Module):
        def __init__(self, original: torch.nn.Linear) -> None:
            super().__init__()
            self.in_features, self.out_features = original.in_features, original.out_features
            weight = original.weight.detach().float()
            smoothing = (
                torch.ones(self.in_features)
                if activation_absmax is None
                else smoothing_scales(activation_absmax, weight)
            )
            self.register_buffer("inverse_smoothing", 1 / smoothing)
            self.packed = pack_weight(weight * smoothing[None, :])
            self.weight_only = self.in_features % WEIGHT_ONLY_ALIGNMENT == 0
            if self.weight_only:
                quantized, scales = quantize_weight_only(weight)
                self.register_buffer("quantized", quantized)
                self.register_buffer("scales", scales)
            bias = original.bias
            self.bias = (
                None if bias is None else torch.nn.Parameter(bias.detach().float(), requires_grad=False)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            decoding = x.dim() == 3 and x.shape[1] == 1
            if decoding and self.weight_only:
                y = weight_only_matmul(x, self.quantized, self.scales)
            else:
                y = rowwise_matmul(x.float() * self.inverse_smoothing, self.packed)
            return y if self.bias is None else y + self.bias

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, int8"

    return Int8Linear(linear)
