"""The GPU decoding loop: a static KV cache and one compiled decode step, replayed as a CUDA graph.

On a GPU a small model's decoding step is bound by launching its few hundred kernels and by the
host waiting on the device, not by arithmetic: the compact loop (decoding.py) read every step's
tokens back to drop finished rows, about 64 ms a step at any batch size on an H200. Here shapes never
change during a batch, so the step compiles once (`torch.compile(mode="reduce-overhead")`: CUDA
graphs; from a shape's second batch on, so that one-off shapes never pay the compile) against
transformers' StaticCache: tokens stay on the device, sampling runs there, and the
host reads the new tokens once every CHECK_EVERY steps to see which rows have ended (end of text,
a stop sequence, the budget). Finished rows keep decoding until the batch ends; their extra tokens
are dropped. The rows of a batch are padded to a power of two and the cache length rounded up to
one, so a server compiles a handful of shapes, not one per request.

With grammar constraints the host reads the tokens every step instead (each row's matcher must
see its token before the next mask exists): the mask is filled on the host, copied to the device
and applied before the choice, as vLLM and SGLang do.

On a CPU the same loop runs eagerly (nothing to gain from graphs there): that is how its tokens are
tested against the compact loop's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from transformers import StaticCache

from services.generation.decoding import (
    Decoding,
    _finished,
    _next_tokens,
    _warpers,
    accept_token,
    constrain_logits,
    end_token_ids,
    next_logits,
)
from services.generation.placement import gpu_batch_size

if TYPE_CHECKING:
    from services.generation.constrain import RowConstraints

CHECK_EVERY = 8  # decoding steps between the host's reads of the new tokens
MIN_CACHE_LENGTH = 256  # the smallest cache allocated: shorter batches share its compiled step
COMPILE_AFTER = 1  # batches of a shape decoded eagerly before its step is compiled: one-off shapes never pay
RECOMPILE_LIMIT = 64  # distinct (rows, cache length) shapes one process compiles before running eager

Step = Callable[[Any, Any, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]  # next_logits


def bucket(n: int, floor: int = 1) -> int:
    """The power of two at or above n (and floor): the shape a batch is padded to."""
    size = floor
    while size < n:
        size *= 2
    return size


def power_of_two_at_most(n: int) -> int:
    return 1 << (max(1, n).bit_length() - 1)


class StaticDecoder:
    """Decodes batches for one model; keeps the last static cache for the next batch of its shape
    (reset, not reallocated: a captured graph holds its addresses)."""

    def __init__(
        self, model: Any, compile_mode: str | None = None, compile_backend: str = "inductor"
    ) -> None:
        self.model = model
        self._cache: Any = None
        self._cache_shape: tuple[int, int] = (0, 0)
        self._batches: Counter[tuple[int, int]] = Counter()  # batches decoded per (rows, cache length)
        self.compiled: Step | None = None
        if compile_mode is not None or compile_backend != "inductor":
            config = torch._dynamo.config  # recompile_limit was cache_size_limit before torch 2.7
            name = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
            setattr(config, name, max(getattr(config, name), RECOMPILE_LIMIT))
            # fullgraph: a graph break would silently split the step and lose the graph's speed.
            self.compiled = torch.compile(
                next_logits, mode=compile_mode, backend=compile_backend, fullgraph=True, dynamic=False
            )

    def batch_size(self, longest: int, free_bytes: int, dtype_bytes: int) -> int:
        """Rows per batch from free memory, as gpu_batch_size sizes them, for the padded shapes this
        loop allocates (rows a power of two, the cache length rounded up); the cache it holds now
        counts as free, since the next batch reuses or replaces it."""
        length = bucket(longest, MIN_CACHE_LENGTH)
        fits = gpu_batch_size(self.model.config, length, free_bytes + self.held_bytes(), dtype_bytes)
        return power_of_two_at_most(fits)

    def held_bytes(self) -> int:
        if self._cache is None:
            return 0
        return sum(
            t.numel() * t.element_size()
            for layer in self._cache.layers
            if layer.is_initialized
            for t in (layer.keys, layer.values)
        )

    def _static_cache(self, rows: int, length: int) -> Any:
        if self._cache is not None and self._cache_shape == (rows, length):
            self._cache.reset()
            return self._cache
        self._cache = None  # free the old one before allocating
        self._cache = StaticCache(config=self.model.config, max_cache_len=length)
        self._cache_shape = (rows, length)
        return self._cache

    def decode(
        self,
        tokenizer: Any,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        settings: Decoding,
        constraints: RowConstraints | None = None,
    ) -> list[list[int]]:
        """The new tokens of each row, as decoding.decode returns them (end token included)."""
        real_rows, prompt = input_ids.shape
        rows = bucket(real_rows)
        if rows > real_rows:  # padding rows repeat the last one; their tokens are dropped
            extra = rows - real_rows
            input_ids = torch.cat([input_ids, input_ids[-1:].expand(extra, -1)])
            attention_mask = torch.cat([attention_mask, attention_mask[-1:].expand(extra, -1)])
        length = bucket(prompt + settings.max_new_tokens, MIN_CACHE_LENGTH)
        cache = self._static_cache(rows, length)
        recurring = self._batches[(rows, length)] >= COMPILE_AFTER
        self._batches[(rows, length)] += 1
        step = self.compiled if self.compiled is not None and recurring else next_logits
        mask = attention_mask.new_zeros((rows, length))
        mask[:, :prompt] = attention_mask
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        # Prefill runs eagerly: its length differs from batch to batch.
        logits = next_logits(self.model, cache, input_ids, mask, positions)
        positions = positions[:, -1:] + 1
        if constraints and rows > real_rows:  # padding rows decode unconstrained; dropped anyway
            constraints.extend(rows - real_rows)
        return self._decode_steps(tokenizer, step, logits, mask, positions, prompt, settings, constraints)[
            :real_rows
        ]

    def _decode_steps(
        self,
        tokenizer: Any,
        step_fn: Step,
        logits: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        prompt: int,
        settings: Decoding,
        constraints: RowConstraints | None = None,
    ) -> list[list[int]]:
        ends = end_token_ids(self.model, tokenizer)
        end_ids = torch.tensor(ends, device=logits.device, dtype=torch.long)
        warpers = _warpers(settings)
        stop_window = max((len(s.encode()) for s in settings.stop), default=0)
        rows = logits.shape[0]
        made = torch.empty((rows, settings.max_new_tokens), dtype=torch.long, device=logits.device)
        generated: list[list[int]] = [[] for _ in range(rows)]
        open_rows = set(range(rows))
        read = 0
        for step in range(settings.max_new_tokens):
            if step < settings.min_new_tokens and ends:  # out of place: a graph owns its output
                logits = logits.index_fill(1, end_ids, float("-inf"))
            if constraints:
                logits = logits.clone()  # a graph owns its output
                dead = constrain_logits(constraints, logits, list(range(rows)))
            tokens = _next_tokens(logits, warpers)
            made[:, step] = tokens
            last = step + 1 == settings.max_new_tokens
            if constraints:  # every step: each row's matcher takes its token before the next mask
                for row, token in enumerate(tokens.tolist()):
                    if row not in open_rows:
                        continue
                    if row in dead or not accept_token(constraints, row, token):
                        ended = True  # a dead end: the row ends with what it has
                    else:
                        generated[row].append(token)
                        ended = _finished(
                            generated[row], token, len(generated[row]), ends, tokenizer, settings, stop_window
                        )
                    if ended:
                        open_rows.discard(row)
                        constraints.release(row)
                read = step + 1
                if not open_rows:
                    break
            elif (step + 1) % CHECK_EVERY == 0 or last:
                # The one host read: which rows ended among the steps since the last read.
                for row, new in enumerate(made[:, read : step + 1].tolist()):
                    if row not in open_rows:
                        continue
                    for token in new:
                        generated[row].append(token)
                        done = _finished(
                            generated[row], token, len(generated[row]), ends, tokenizer, settings, stop_window
                        )
                        if done:
                            open_rows.discard(row)
                            break
                read = step + 1
                if not open_rows:
                    break
            mask[:, prompt + step] = 1
            logits = step_fn(self.model, self._cache, tokens[:, None], mask, positions)
            positions = positions + 1
        return generated
