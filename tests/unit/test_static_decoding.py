"""The GPU's decoding loop (static cache, one compiled step) against the compact loop on a tiny
random Llama, run on the CPU: the same greedy tokens, stop sequences and minimum lengths, rows padded
to a power of two, the cache reused between batches, and a step that compiles as one graph."""

from __future__ import annotations

import pytest
import torch

from services.generation.decoding import Decoding, decode, end_token_ids
from services.generation.kv_cache import GrowingCache
from services.generation.placement import gpu_batch_size
from services.generation.static_decoding import CHECK_EVERY, StaticDecoder, bucket
from testbed.tiny_models import load_tiny, make_tiny_model

PROMPTS = [  # three rows: the static loop pads them to four
    "-- Question: How many singers are there?\n-- SQL:",
    "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY",
    "CREATE TABLE singer (",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(make_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=3))


@pytest.fixture
def likely_end(tiny):
    """Make the end token likely, so rows end at different steps."""
    model, tokenizer = tiny
    end = end_token_ids(model, tokenizer)[0]
    with torch.no_grad():
        model.lm_head.weight[end] *= 1.6
    yield
    with torch.no_grad():
        model.lm_head.weight[end] /= 1.6


def _compact(tiny, settings, seed=0):
    model, tokenizer = tiny
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    with torch.inference_mode():
        return decode(model, tokenizer, batch["input_ids"], batch["attention_mask"], GrowingCache(), settings)


def _static(tiny, settings, decoder=None, seed=0):
    model, tokenizer = tiny
    decoder = decoder or StaticDecoder(model)
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    with torch.inference_mode():
        return decoder.decode(tokenizer, batch["input_ids"], batch["attention_mask"], settings)


def test_buckets_are_powers_of_two_at_or_above_the_floor():
    assert [bucket(n) for n in (1, 2, 3, 5, 8, 9)] == [1, 2, 4, 8, 8, 16]
    assert bucket(40, 256) == 256 and bucket(300, 256) == 512


def test_greedy_tokens_match_the_compact_loop_and_the_batch_stops_soon_after_its_last_row(tiny, likely_end):
    model, _tokenizer = tiny
    settings = Decoding(max_new_tokens=64)
    reference = _compact(tiny, settings)
    rows_seen: list[int] = []
    hook = model.register_forward_pre_hook(
        lambda _module, _args, kwargs: rows_seen.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        static = _static(tiny, settings)
    finally:
        hook.remove()
    assert static == reference
    longest = max(len(row) for row in reference)
    assert min(len(row) for row in reference) < longest < 64  # rows ended at different steps
    assert set(rows_seen) == {4}  # three rows padded to four, every pass the same shape
    # One prefill, then steps until the read after the last row ended: not the whole budget.
    assert longest < len(rows_seen) <= 1 + -(-longest // CHECK_EVERY) * CHECK_EVERY


def test_stop_sequences_and_minimum_lengths_as_the_compact_loop(tiny):
    model, tokenizer = tiny
    free = _compact(tiny, Decoding(max_new_tokens=16))
    stop = tokenizer.decode(free[0])[6:9]
    stopped = Decoding(max_new_tokens=16, stop=(stop,))
    assert _static(tiny, stopped) == _compact(tiny, stopped)
    end = end_token_ids(model, tokenizer)[0]
    with torch.no_grad():
        model.lm_head.weight[end] *= 3.0  # the end token wins almost at once...
    try:
        fixed = _static(tiny, Decoding(max_new_tokens=12, min_new_tokens=12))
        assert _static(tiny, Decoding(max_new_tokens=12)) == _compact(tiny, Decoding(max_new_tokens=12))
    finally:
        with torch.no_grad():
            model.lm_head.weight[end] /= 3.0
    assert all(len(row) == 12 and end not in row for row in fixed)  # ...unless held off


def test_the_cache_is_reset_and_reused_for_a_batch_of_the_same_shape(tiny):
    decoder = StaticDecoder(tiny[0])
    settings = Decoding(max_new_tokens=20)
    first = _static(tiny, settings, decoder)
    cache = decoder._cache
    assert _static(tiny, settings, decoder) == first  # nothing of the first batch leaks in
    assert decoder._cache is cache  # same addresses: a captured graph replays on them
    assert _static(tiny, Decoding(max_new_tokens=300), decoder)  # a longer budget: a larger cache
    assert decoder._cache is not cache and decoder._cache_shape == (4, 512)


def test_the_free_memory_batch_is_a_power_of_two_and_counts_the_held_cache_as_free(tiny):
    model = tiny[0]
    decoder = StaticDecoder(model)
    free = 50 * 2**20
    rows = decoder.batch_size(300, free, dtype_bytes=4)
    fits = gpu_batch_size(model.config, 512, free, dtype_bytes=4)  # 300 tokens take a 512-long cache
    assert rows & (rows - 1) == 0 and rows <= fits < 2 * rows
    _static(tiny, Decoding(max_new_tokens=8), decoder)
    assert decoder.held_bytes() > 0
    # The next batch reuses (or replaces) the cache held now: the same size, not a smaller one.
    assert decoder.batch_size(300, free - decoder.held_bytes(), dtype_bytes=4) == rows


def test_sampling_is_seeded(tiny):
    hot = Decoding(max_new_tokens=10, temperature=1.0, top_p=0.9)
    first = _static(tiny, hot, seed=5)
    assert _static(tiny, hot, seed=5) == first
    assert _static(tiny, hot, seed=6) != first


def test_the_step_compiles_as_one_graph_from_a_shapes_second_batch_and_answers_the_same(tiny, likely_end):
    """fullgraph: a graph break raises here, where on a GPU it would quietly cost the CUDA graph.
    The eager backend traces the step as inductor would without compiling kernels (seconds)."""
    torch._dynamo.reset()
    settings = Decoding(max_new_tokens=24)
    decoder = StaticDecoder(tiny[0], compile_backend="eager")
    traced: list[int] = []
    original = decoder.compiled
    decoder.compiled = lambda *args: traced.append(1) or original(*args)
    reference = _compact(tiny, settings)
    assert _static(tiny, settings, decoder) == reference and not traced  # a first batch: eager
    assert _static(tiny, settings, decoder) == reference and traced  # the shape recurs: compiled


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="CUDA graphs need a GPU; the CPU tests above trace the same step"
)
def test_on_a_gpu_the_captured_step_answers_as_the_compact_loop(tiny, likely_end):
    """The production path on a GPU: inductor with CUDA graphs (reduce-overhead), fp32 so that the
    greedy tokens can be compared exactly; three batches replay the captured graph."""
    model, tokenizer = tiny
    model.to("cuda")
    try:
        batch = tokenizer(PROMPTS, return_tensors="pt", padding=True).to("cuda")
        settings = Decoding(max_new_tokens=40)
        decoder = StaticDecoder(model, compile_mode="reduce-overhead")
        with torch.inference_mode():
            reference = decode(
                model, tokenizer, batch["input_ids"], batch["attention_mask"], GrowingCache(), settings
            )
            for _ in range(3):
                assert (
                    decoder.decode(tokenizer, batch["input_ids"], batch["attention_mask"], settings)
                    == reference
                )
    finally:
        model.to("cpu")
