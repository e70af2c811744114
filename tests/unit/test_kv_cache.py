"""GrowingCache against transformers' DynamicCache on a tiny random Llama: the same keys, values and
logits through prefill, decoding steps, growth, and every batch operation generation uses."""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache

from services.generation import kv_cache
from services.generation.kv_cache import GrowingCache
from testbed.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "m")
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


def _assert_same_cache(growing: GrowingCache, dynamic: DynamicCache) -> None:
    assert growing.get_seq_length() == dynamic.get_seq_length()
    for mine, theirs in zip(growing.layers, dynamic.layers, strict=True):
        assert torch.equal(mine.keys, theirs.keys) and torch.equal(mine.values, theirs.values)


def _step(model, cache, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=tokens, attention_mask=mask, cache=cache, use_cache=True).logits


def test_decoding_steps_match_dynamic_cache_and_write_in_place(model, monkeypatch):
    monkeypatch.setattr(kv_cache, "GROWTH_POSITIONS", 4)  # small room: the test crosses several growths
    torch.manual_seed(0)
    prompt = torch.randint(3, 300, (3, 9))
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[0, :4] = 0  # a left-padded row
    growing, dynamic = GrowingCache(), DynamicCache()
    assert torch.equal(_step(model, growing, prompt, mask), _step(model, dynamic, prompt, mask))
    writes_in_place = growths = 0
    for _ in range(20):
        buffer = growing.layers[0]._key_buffer
        token = torch.randint(3, 300, (3, 1))
        mask = torch.cat([mask, torch.ones(3, 1, dtype=torch.long)], dim=1)
        assert torch.equal(_step(model, growing, token, mask), _step(model, dynamic, token, mask))
        _assert_same_cache(growing, dynamic)
        if growing.layers[0]._key_buffer is buffer:
            writes_in_place += 1
        else:
            growths += 1
    assert writes_in_place > 10 and 1 <= growths <= 4


def test_batch_operations_and_copies_match_dynamic_cache(model):
    torch.manual_seed(1)
    prefix = torch.randint(3, 300, (1, 12))
    growing, dynamic = GrowingCache(), DynamicCache()
    _step(model, growing, prefix, torch.ones(1, 12, dtype=torch.long))
    _step(model, dynamic, prefix, torch.ones(1, 12, dtype=torch.long))
    stored = copy.deepcopy(growing)  # what the prefix cache keeps

    for cache in (growing, dynamic):
        cache.batch_repeat_interleave(4)
    _assert_same_cache(growing, dynamic)
    tokens, mask = torch.randint(3, 300, (4, 3)), torch.ones(4, 15, dtype=torch.long)
    assert torch.equal(_step(model, growing, tokens, mask), _step(model, dynamic, tokens, mask))
    for cache in (growing, dynamic):
        cache.crop(-2)
        cache.batch_select_indices(torch.tensor([0, 2]))
    _assert_same_cache(growing, dynamic)
    tokens, mask = torch.randint(3, 300, (2, 1)), torch.ones(2, 14, dtype=torch.long)
    assert torch.equal(_step(model, growing, tokens, mask), _step(model, dynamic, tokens, mask))
    _assert_same_cache(growing, dynamic)

    assert stored.get_seq_length() == 12 and stored.layers[0].keys.shape[0] == 1  # copies are separate
    fresh = DynamicCache()
    _step(model, fresh, prefix, torch.ones(1, 12, dtype=torch.long))
    _assert_same_cache(stored, fresh)


def test_a_step_with_another_batch_size_is_refused(model):
    cache = GrowingCache()
    _step(model, cache, torch.randint(3, 300, (2, 5)), torch.ones(2, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="rows"):
        _step(model, cache, torch.randint(3, 300, (3, 1)), torch.ones(3, 6, dtype=torch.long))
