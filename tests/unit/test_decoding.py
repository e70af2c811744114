"""The compact decoding loop against transformers' generate() on a tiny random Llama: the same
greedy tokens, rows leaving the batch as they end, stop sequences, end-of-text, minimum lengths."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache

from services.generation.decoding import Decoding, decode, end_token_ids, generate_rows
from services.generation.kv_cache import GrowingCache
from testbed.tiny_models import load_tiny, make_tiny_model

PROMPTS = [
    "-- Question: How many singers are there?\n-- SQL:",
    "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY",
    "CREATE TABLE singer (",
    "-- SQL: SELECT count(*)",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(make_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=3))


def _batch(tokenizer):
    encoded = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    return encoded["input_ids"], encoded["attention_mask"]


def _run(loop, tiny, settings, cache_class, seed=0):
    model, tokenizer = tiny
    ids, mask = _batch(tokenizer)
    torch.manual_seed(seed)
    with torch.inference_mode():
        return loop(model, tokenizer, ids, mask, cache_class(), settings)


def _without_padding(rows: list[list[int]], ends: list[int]) -> list[list[int]]:
    """generate() pads rows that ended; the compact loop's rows stop at their end token."""
    cut = []
    for row in rows:
        end = next((i for i, token in enumerate(row) if token in ends), len(row) - 1)
        cut.append(row[: end + 1])
    return cut


def test_greedy_tokens_match_generate_while_finished_rows_leave_the_batch(tiny):
    model, tokenizer = tiny
    ends = end_token_ids(model, tokenizer)
    # Make the end token likely: rows then end at different steps.
    settings = Decoding(max_new_tokens=24)
    with torch.no_grad():
        model.lm_head.weight[ends[0]] *= 1.6
    try:
        rows_seen: list[int] = []
        hook = model.register_forward_pre_hook(
            lambda _module, _args, kwargs: rows_seen.append(kwargs["input_ids"].shape[0]), with_kwargs=True
        )
        try:
            compact = _run(decode, tiny, settings, GrowingCache)
        finally:
            hook.remove()
        reference = _run(generate_rows, tiny, settings, DynamicCache)
    finally:
        with torch.no_grad():
            model.lm_head.weight[ends[0]] /= 1.6
    assert compact == _without_padding(reference, ends)
    lengths = sorted(len(row) for row in compact)
    assert lengths[0] < lengths[-1]  # rows ended at different steps...
    assert rows_seen[0] == len(PROMPTS) and rows_seen[-1] < len(PROMPTS)  # ...and left the batch
    assert len(rows_seen) == lengths[-1]  # one forward pass per step of the longest row, no more


def test_stop_sequences_and_minimum_lengths(tiny):
    model, tokenizer = tiny
    free = _run(decode, tiny, Decoding(max_new_tokens=16), GrowingCache)
    text = tokenizer.decode(free[0])
    stop = text[6:9]
    stopped = _run(decode, tiny, Decoding(max_new_tokens=16, stop=(stop,)), GrowingCache)
    assert stop in tokenizer.decode(stopped[0]) and len(stopped[0]) < len(free[0])
    assert free[0][: len(stopped[0])] == stopped[0]

    ends = end_token_ids(model, tokenizer)
    with torch.no_grad():
        model.lm_head.weight[ends[0]] *= 3.0  # the end token wins almost at once...
    try:
        early = _run(decode, tiny, Decoding(max_new_tokens=12), GrowingCache)
        fixed = _run(decode, tiny, Decoding(max_new_tokens=12, min_new_tokens=12), GrowingCache)
    finally:
        with torch.no_grad():
            model.lm_head.weight[ends[0]] /= 3.0
    assert min(len(row) for row in early) < 12
    assert all(len(row) == 12 and not set(row) & set(ends) for row in fixed)  # ...unless held off


def test_sampling_is_seeded_and_follows_temperature(tiny):
    hot = Decoding(max_new_tokens=10, temperature=1.0, top_p=0.9)
    first = _run(decode, tiny, hot, GrowingCache, seed=5)
    assert _run(decode, tiny, hot, GrowingCache, seed=5) == first
    assert _run(decode, tiny, hot, GrowingCache, seed=6) != first
    cold = Decoding(max_new_tokens=10, temperature=1e-4)
    assert _run(decode, tiny, cold, GrowingCache, seed=7) == _run(
        decode, tiny, Decoding(max_new_tokens=10), GrowingCache
    )
