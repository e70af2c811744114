"""The decoding loops of the transformers backend: greedy or sampled, one batch, the KV cache kept
between steps. `decode` (the default, "compact") drops finished rows from the batch as they finish;
`generate_rows` is transformers' generate(), kept as the reference and a fallback.

transformers' generate() keeps running every row until the last one stops. Here a row that ends
(end of text, a stop sequence, its token budget) leaves the batch and the cache at once, so a batch
costs what its rows need rather than rows x its longest row: on the held-out questions a batch of
30 holds answers of 5 to 128 tokens. Temperature, top-k and top-p are transformers' own warpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

if TYPE_CHECKING:
    from services.generation.constrain import RowConstraints

SAMPLING_TOP_K = 50  # generate()'s default when sampling, kept: candidates are drawn as they were


# compact | generate (this module) | static (static_decoding.py: a GPU's loop) | auto: static on a
# GPU, compact elsewhere.
DECODE_LOOPS = ("auto", "compact", "generate", "static")


@dataclass(frozen=True)
class Decoding:
    max_new_tokens: int
    min_new_tokens: int = 0  # end of text is not allowed before (fixed-length speed runs)
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    stop: tuple[str, ...] = ()  # a row ends once its text contains one of these


def end_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The model's end-of-text ids (generation config first, as generate() reads them)."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is None:
        configured = getattr(tokenizer, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]  # None: no end token
    return [int(i) for i in ids if i is not None]


def decode(
    model: Any,
    tokenizer: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    cache: Any,
    settings: Decoding,
    constraints: RowConstraints | None = None,
) -> list[list[int]]:
    """The new tokens of each row (end-of-text token included when one was made). `cache` may
    already hold the first positions of every row (a shared prefix); it is consumed."""
    ends = end_token_ids(model, tokenizer)
    warpers = _warpers(settings)
    # A stop sequence of B bytes that ends at this step lies within the row's last B tokens.
    stop_window = max((len(s.encode()) for s in settings.stop), default=0)
    rows = input_ids.shape[0]
    generated: list[list[int]] = [[] for _ in range(rows)]
    active = list(range(rows))  # original row of each batch row still decoding
    step_input = input_ids[:, cache.get_seq_length() :]
    mask = attention_mask
    for step in range(settings.max_new_tokens):
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -step_input.shape[1] :]
        logits = next_logits(model, cache, step_input, mask, positions)
        if step < settings.min_new_tokens and ends:
            logits[:, ends] = float("-inf")
        dead = constrain_logits(constraints, logits, active)
        tokens = _next_tokens(logits, warpers)
        keep = []
        for batch_row, token in enumerate(tokens.tolist()):
            row = active[batch_row]
            if batch_row in dead or not accept_token(constraints, row, token):
                continue  # its grammar allows nothing more: the row ends with what it has
            generated[row].append(token)
            if not _finished(generated[row], token, step + 1, ends, tokenizer, settings, stop_window):
                keep.append(batch_row)
        if not keep:
            break
        if len(keep) < len(active):
            index = torch.tensor(keep, device=tokens.device)
            cache.batch_select_indices(index)
            mask, tokens = mask[index], tokens[index]
            active = [active[i] for i in keep]
        step_input = tokens[:, None]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
    return generated


def constrain_logits(constraints: RowConstraints | None, logits: torch.Tensor, rows: list[int]) -> set[int]:
    """Mask each row's logits to its grammar (in place); the batch rows at a dead end, whose logits
    are made uniform so that sampling them stays defined (their token is never used)."""
    if not constraints:
        return set()
    dead = set(constraints.apply(logits, rows))
    if dead:
        logits[sorted(dead)] = 0.0
    return dead


def accept_token(constraints: RowConstraints | None, row: int, token: int) -> bool:
    return True if not constraints else constraints.accept(row, token)


def next_logits(
    model: Any, cache: Any, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor
) -> torch.Tensor:
    """One forward pass over new positions, `cache` extended in place: every row's next-token
    logits in fp32 (the last position's only: the rest is never needed)."""
    out = model(
        input_ids=input_ids,
        attention_mask=mask,
        position_ids=positions,
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    return out.logits[:, -1, :].float()


def generate_rows(
    model: Any,
    tokenizer: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    cache: Any,
    settings: Decoding,
) -> list[list[int]]:
    """The same as `decode` through transformers' generate(): every row runs until the last one
    stops (finished rows are padded), and its cache is the one passed (or a DynamicCache)."""
    kwargs: dict[str, Any] = dict(
        max_new_tokens=settings.max_new_tokens,
        min_new_tokens=settings.min_new_tokens or None,
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
        stop_strings=list(settings.stop) or None,
        tokenizer=tokenizer,
    )
    if settings.temperature > 0:
        kwargs.update(
            do_sample=True, temperature=settings.temperature, top_k=SAMPLING_TOP_K, top_p=settings.top_p
        )
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    generated = model.generate(input_ids=input_ids, attention_mask=attention_mask, cache=cache, **kwargs)
    return generated[:, input_ids.shape[1] :].tolist()


def _warpers(settings: Decoding) -> LogitsProcessorList | None:
    if settings.temperature <= 0:
        return None
    warpers = LogitsProcessorList(
        [TemperatureLogitsWarper(settings.temperature), TopKLogitsWarper(SAMPLING_TOP_K)]
    )
    if settings.top_p < 1.0:
        warpers.append(TopPLogitsWarper(settings.top_p))
    return warpers


def _next_tokens(logits: torch.Tensor, warpers: LogitsProcessorList | None) -> torch.Tensor:
    if warpers is None:
        return logits.argmax(dim=-1)
    scores = warpers(None, logits)
    return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)


def _finished(
    row: list[int],
    token: int,
    made: int,
    ends: list[int],
    tokenizer: Any,
    settings: Decoding,
    stop_window: int,
) -> bool:
    if made < settings.min_new_tokens:
        return False
    if token in ends or made >= settings.max_new_tokens:
        return True
    if not settings.stop:
        return False
    # The first step allowed to stop reads the whole row; later ones only what is new since.
    text = tokenizer.decode(row if made == settings.min_new_tokens else row[-stop_window:])
    return any(s in text for s in settings.stop)
