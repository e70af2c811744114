"""How likely a model finds each of several completions of one prompt: the sum of the log-probabilities
of the completion's tokens. Reviewing SQL (logic.Generator.review, the ReviewSql RPC) asks it how well each candidate SQL
explains the question it was written for. The prompt is prefilled once (through the model's prefix
cache) and every completion runs as one row of a single batch on top of it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from services.generation.prefix_cache import PrefixCache

# Rows scored in one forward pass: each holds its positions' logits over the whole vocabulary in fp32
# (60 positions x 151k tokens = 36 MB a row on the Qwen models), so a long list goes in passes.
ROWS_PER_PASS = 8


def completion_logprobs(
    model: Any,
    tokenizer: Any,
    prefixes: PrefixCache,
    empty_cache: Any,
    prompt: str,
    completions: Sequence[str],
    contexts: Sequence[str] = (),
) -> list[float]:
    """log p(completion | prompt + context) for each completion, with each row's `context` (when
    given) read between the shared prompt and the completion but not scored. Each part is tokenized
    on its own (as training rows are: prompts end at a mark, completions start with a space)."""
    import torch

    if contexts and len(contexts) != len(completions):
        raise ValueError("one context per completion, or none")
    if len(completions) > ROWS_PER_PASS:  # the logits of every row's every position are held at once
        return [
            score
            for start in range(0, len(completions), ROWS_PER_PASS)
            for score in completion_logprobs(
                model,
                tokenizer,
                prefixes,
                copy.deepcopy(empty_cache),
                prompt,
                completions[start : start + ROWS_PER_PASS],
                contexts[start : start + ROWS_PER_PASS] if contexts else (),
            )
        ]
    if not completions:
        return []
    prompt_ids = tokenizer(prompt).input_ids
    if not prompt_ids:
        raise ValueError("an empty prompt has nothing to condition on")
    scored = [tokenizer(c, add_special_tokens=False).input_ids for c in completions]
    if not all(scored):
        raise ValueError("an empty completion has no tokens to score")
    read = [tokenizer(c, add_special_tokens=False).input_ids for c in contexts] or [[] for _ in scored]
    rows = [r + s for r, s in zip(read, scored, strict=True)]
    # The prompt's last token is fed with the rows, so its logits (which predict each row's first
    # token) come out of the same pass.
    head = prompt_ids[:-1]
    cache = prefixes.prefill(model, head, empty_cache) if head else empty_cache
    cache.batch_repeat_interleave(len(rows))
    width = 1 + max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = model.device
    ids = torch.tensor([[prompt_ids[-1], *r] + [pad] * (width - 1 - len(r)) for r in rows], device=device)
    mask = torch.tensor(
        [[1] * (len(head) + 1 + len(r)) + [0] * (width - 1 - len(r)) for r in rows], device=device
    )
    positions = torch.arange(len(head), len(head) + width, device=device).expand(len(rows), -1)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True)
    logprobs = torch.log_softmax(out.logits[:, :-1, :].float(), dim=-1)
    return [
        float(
            logprobs[
                i, torch.arange(len(r), len(r) + len(s), device=device), torch.tensor(s, device=device)
            ].sum()
        )
        for i, (r, s) in enumerate(zip(read, scored, strict=True))
    ]
