"""shared/int8_kernels.py's kernels and the generation backend's int8 calibration, on real torch int8
kernels (x86 / fbgemm) and a tiny random model."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from services.generation.int8_model import activation_absmax, calibration_texts  # noqa: E402
from shared.int8_kernels import (  # noqa: E402
    int8_linear,
    pack_weight,
    quantize_weight_only,
    rowwise_matmul,
    smoothing_scales,
    use_int8_engine,
    weight_only_matmul,
)
from testbed.tiny_models import make_tiny_model  # noqa: E402


def relative_error(approx, exact) -> float:
    return ((approx - exact).norm() / exact.norm()).item()


def test_smoothing_recovers_the_precision_an_outlier_channel_takes_from_the_others():
    """One activation channel 100x the others (as in Qwen's MLP inputs): per-token int8 rounds the
    rest away; smoothing moves half that range into the weights and keeps x W^T unchanged."""
    use_int8_engine()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 256, generator=generator)
    x[:, 3] *= 100
    weight = torch.randn(128, 256, generator=generator) * 0.05
    exact = x @ weight.T
    smoothing = smoothing_scales(x.abs().amax(dim=0), weight)
    assert torch.allclose((x / smoothing) @ (weight * smoothing).T, exact, rtol=1e-3, atol=1e-3)
    plain = relative_error(rowwise_matmul(x, pack_weight(weight)), exact)
    smoothed = relative_error(rowwise_matmul(x / smoothing, pack_weight(weight * smoothing)), exact)
    assert smoothed < plain / 2, (smoothed, plain)


def test_int8_linear_decodes_weight_only_and_prefills_per_token():
    use_int8_engine()
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    module = int8_linear(linear, activation_absmax=torch.rand(64) + 0.5)
    quantized, scales = quantize_weight_only(linear.weight)
    with torch.inference_mode():
        step = torch.randn(3, 1, 64)  # one position per row: a decoding step
        assert torch.equal(module(step), weight_only_matmul(step, quantized, scales) + linear.bias)
        prompt = torch.randn(3, 7, 64)
        smoothed = rowwise_matmul(prompt * module.inverse_smoothing, module.packed) + linear.bias
        assert torch.equal(module(prompt), smoothed)
        for x in (step, prompt):
            assert relative_error(module(x), linear(x)) < 0.03


def test_int8_linear_without_the_weight_only_kernels_alignment_decodes_per_token():
    """torch's weight-only kernel crashes on in-features that are not a multiple of 8."""
    use_int8_engine()
    linear = torch.nn.Linear(20, 16, bias=False)
    module = int8_linear(linear)
    assert not module.weight_only
    with torch.inference_mode():
        step = torch.randn(2, 1, 20)
        assert relative_error(module(step), linear(step)) < 0.03


def test_calibration_records_each_linear_inputs_largest_magnitude_per_channel(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = make_tiny_model(tmp_path / "tiny")
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    texts = calibration_texts()[:2]
    assert texts and all("SELECT" in text.upper() for text in texts)
    found = activation_absmax(model, tokenizer, texts)
    linears = {name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    assert set(found) == linears
    with torch.inference_mode():  # the output layer reads the last hidden states (after the norm)
        final = [
            model(**tokenizer(text, return_tensors="pt"), output_hidden_states=True).hidden_states[-1]
            for text in texts
        ]
    expected = torch.stack([h[0].abs().amax(dim=0) for h in final]).amax(dim=0)
    assert torch.allclose(found["lm_head"], expected)
    assert not any(hook for module in model.modules() for hook in module._forward_pre_hooks.values())
