"""LoRA on a CPU with the frozen base weights computed in int8 (the run setting train_int8_base).

LoRA never updates the base model's Linear weights, yet on a CPU nearly all of a training step is
their two matmuls per layer: the forward (x W^T) and the input gradient (dy W). Both run here as
int8 GEMMs (shared/int8_kernels.py): weights quantized once per output channel, activations and
gradients quantized per row (token), int32 accumulation. The LoRA matrices, norms, attention and
the output layer stay fp32, so only the frozen path is approximated: about 1.5% relative error per
matmul. Measured on the 0.5B model (2 bundled training rows, LoRA r=16 on every Linear, one
thread): a forward and backward in 15.0 s instead of 26.3 s (1.75x), loss 1.970 vs 1.941, LoRA
gradients at cosine 0.954 with the fp32 ones. The original Linear modules are put back before
anything is saved or merged."""

from __future__ import annotations

from typing import Any


def _autograd_function() -> Any:
    import torch

    from shared.int8_kernels import rowwise_matmul

    class Int8FrozenMatmul(torch.autograd.Function):
        """y = x W^T + b with W, b frozen: no weight gradient, the input gradient through W in int8."""

        @staticmethod
        def forward(ctx: Any, x: Any, packed: Any, packed_transposed: Any, bias: Any) -> Any:
            ctx.packed_transposed = packed_transposed
            y = rowwise_matmul(x, packed)
            return y if bias is None else y + bias

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return rowwise_matmul(grad, ctx.packed_transposed), None, None, None

    return Int8FrozenMatmul


def frozen_int8_linear(linear: Any) -> Any:
    """A module standing in for a frozen torch.nn.Linear in training (classes built here: importing
    this file needs no torch)."""
    import torch

    from shared.int8_kernels import pack_weight

    function = _autograd_function()

    class Int8FrozenLinear(torch.nn.Module):
        def __init__(self, original: torch.nn.Linear) -> None:
            super().__init__()
            self.in_features, self.out_features = original.in_features, original.out_features
            self.weight, self.bias = original.weight, original.bias  # still there for whoever reads them
            self.packed = pack_weight(original.weight)
            self.packed_transposed = pack_weight(original.weight.t().contiguous())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            bias = None if self.bias is None else self.bias.detach()
            return function.apply(x, self.packed, self.packed_transposed, bias)

    return Int8FrozenLinear(linear)


def quantize_frozen_base(model: Any) -> list[tuple[Any, Any]]:
    """Replace the base layer of every LoRA-wrapped Linear with its int8 stand-in; returns what
    `restore_frozen_base` needs to put the originals back."""
    import torch

    from shared.int8_kernels import use_int8_engine

    use_int8_engine()
    swapped = []
    for module in model.modules():
        base = getattr(module, "base_layer", None)
        if isinstance(base, torch.nn.Linear) and not base.weight.requires_grad:
            module.base_layer = frozen_int8_linear(base)
            swapped.append((module, base))
    return swapped


def restore_frozen_base(swapped: list[tuple[Any, Any]]) -> None:
    for module, original in swapped:
        module.base_layer = original
