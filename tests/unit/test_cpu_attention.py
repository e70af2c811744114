"""The CPU grouped-query attention against transformers' sdpa on a tiny random Llama (4 query heads
over 2 key/value heads): the same logits for a masked, mid-padded batch over a cached prefix, through
torch's kernel with grouped heads rather than copied ones."""

from __future__ import annotations

import copy

import torch
from transformers import AutoModelForCausalLM

from services.generation.cpu_attention import NAME, use_cpu_gqa_attention
from services.generation.kv_cache import GrowingCache
from testbed.tiny_models import make_tiny_model


def test_masked_prefill_over_a_prefix_gives_the_same_logits_with_grouped_heads(tmp_path, monkeypatch):
    folder = make_tiny_model(tmp_path / "m")
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    grouped = copy.deepcopy(reference)
    use_cpu_gqa_attention(grouped)
    assert reference.config._attn_implementation == "sdpa" and grouped.config._attn_implementation == NAME

    calls: list[bool] = []
    kernel = torch.nn.functional.scaled_dot_product_attention

    def recording(*args, **kwargs):
        calls.append(bool(kwargs.get("enable_gqa")) and kwargs.get("attn_mask") is not None)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording)
    torch.manual_seed(0)
    prefix, tails = torch.randint(3, 300, (1, 20)), torch.randint(3, 300, (3, 6))
    mask = torch.ones(3, 26, dtype=torch.long)
    mask[0, 20:23] = 0  # a short tail, padded in the middle
    logits = {}
    for name, model in (("reference", reference), ("grouped", grouped)):
        calls.clear()
        with torch.inference_mode():
            cache = GrowingCache()
            model(input_ids=prefix, cache=cache, use_cache=True)
            cache.batch_repeat_interleave(3)
            logits[name] = model(input_ids=tails, attention_mask=mask, cache=cache, use_cache=True).logits
            step = torch.cat([mask, torch.ones(3, 1, dtype=torch.long)], dim=1)
            logits[name] = torch.cat(
                [logits[name], model(input_ids=tails[:, :1], attention_mask=step, cache=cache).logits], dim=1
            )
        grouped_calls = sum(calls)
        assert grouped_calls == (2 if name == "grouped" else 0)  # two layers' masked prefill, none decoding
    assert torch.allclose(logits["reference"], logits["grouped"], atol=1e-5)
