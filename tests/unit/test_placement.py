"""Where the generation backend runs and how large its batches are (services/generation/placement.py):
the device and number format chosen from what the machine offers, and a GPU's batch size from its
free memory. Pure logic: no model is loaded (a GPU is mocked where one is needed)."""

from __future__ import annotations

import pytest

from shared.errors import FailedPrecondition


def test_placement_uses_a_gpu_when_present_and_int8_on_a_cpu_with_int8_kernels(monkeypatch):
    """CUDA cannot run here: torch.cuda's answers are replaced (a mock of the GPU, named as such) to
    check the choice; the CPU path is the real one every other test exercises."""
    import torch

    from services.generation.placement import Placement, int8_engine, resolve_placement

    assert int8_engine() in ("x86", "fbgemm")  # this torch build on x86 can run int8 when asked
    if not torch.cuda.is_available():
        assert resolve_placement() == Placement("cpu", "fp32")  # int8 cost EX: never implied
    assert resolve_placement("cpu", "int8") == Placement("cpu", "int8")
    assert resolve_placement("cpu", "fp32") == Placement("cpu", "fp32")
    assert resolve_placement("cpu", "fp32").load_dtype == torch.float32
    assert resolve_placement("cpu", "bf16").load_dtype == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_placement() == Placement("cuda", "bf16")
    assert resolve_placement("cpu") == Placement("cpu", "fp32")
    with pytest.raises(FailedPrecondition, match="CPU only"):
        resolve_placement("cuda", "int8")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert resolve_placement("cuda") == Placement("cuda", "fp16")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(FailedPrecondition, match="no GPU"):
        resolve_placement("cuda")
    with pytest.raises(ValueError, match="one of"):
        resolve_placement("tpu")
    with pytest.raises(ValueError, match="one of"):
        resolve_placement("cpu", "int4")
    from services.generation import placement

    monkeypatch.setattr(placement, "int8_engine", lambda: "")  # as a torch build without x86 kernels
    with pytest.raises(FailedPrecondition, match="quantized engine"):
        resolve_placement("cpu", "int8")


def test_gpu_batch_size_follows_free_memory():
    """Hand-computed: a config of 2 layers, 2 KV heads of 8, hidden 16, MLP 32, vocabulary 100;
    per token 2*2*2*8*2 = 128 bytes of KV cache + (64 + 64)*2 = 256 of activations = 384; a
    100-token row 38,400 bytes + 400 of logits = 38,800; 80% of 1,000,000 bytes holds 20 rows."""
    from types import SimpleNamespace

    from services.generation.placement import gpu_batch_size

    config = SimpleNamespace(
        hidden_size=16,
        num_attention_heads=2,
        num_key_value_heads=2,
        num_hidden_layers=2,
        intermediate_size=32,
        vocab_size=100,
    )
    assert gpu_batch_size(config, 100, 1_000_000) == 20
    assert gpu_batch_size(config, 100, 10_000_000) == 206
    assert gpu_batch_size(config, 100, 10**12) == 256  # capped
    assert gpu_batch_size(config, 100, 10) == 1  # never zero: a single row fails loudly instead
