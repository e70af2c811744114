"""Training rows to micro-batches: tokenization with prompt-masked labels, length-grouped batch
order, padded or packed collation, and the completion-only loss. Pure functions of their inputs
(torch imported inside), shared by the trainer entrypoint and the GPU benchmark."""

from __future__ import annotations

import random
from typing import Any


def tokenize_rows(
    rows: list[dict[str, str]], tokenizer: Any, max_length: int
) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) per row: labels are -100 on the prompt; the prompt is cut from the left
    when too long, never the completion."""
    examples = []
    for row in rows:
        prompt = tokenizer(row["prompt"], add_special_tokens=True).input_ids
        completion = tokenizer(row["completion"], add_special_tokens=False).input_ids
        if tokenizer.eos_token_id is not None:
            completion = completion + [tokenizer.eos_token_id]
        completion = completion[:max_length]
        prompt = prompt[-(max_length - len(completion)) :] if max_length > len(completion) else []
        examples.append((prompt + completion, [-100] * len(prompt) + completion))
    return examples


def batch_order(
    lengths: list[int], batch_size: int, seed: int, epoch: int, length_grouped: bool
) -> list[list[int]]:
    """Batches of example indices for one epoch, deterministic in (seed, epoch). Length-grouped:
    shuffle, then sort by length inside windows of 50 batches, so a batch holds similar lengths
    (little padding) while the epoch stays shuffled."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if length_grouped:
        window = batch_size * 50
        order = [
            i
            for start in range(0, len(order), window)
            for i in sorted(order[start : start + window], key=lambda i: -lengths[i])
        ]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def padding_waste(lengths: list[int], batches: list[list[int]]) -> float:
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    return 1 - sum(lengths) / padded if padded else 0.0


def collate(examples: list[tuple[list[int], list[int]]], indices: list[int], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(examples[i][0]) for i in indices)
    ids, labels, mask = [], [], []
    for i in indices:
        tokens, target = examples[i]
        pad = width - len(tokens)
        ids.append(tokens + [pad_id] * pad)  # right padding for training
        labels.append(target + [-100] * pad)
        mask.append([1] * len(tokens) + [0] * pad)
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def collate_packed(examples: list[tuple[list[int], list[int]]], indices: list[int]) -> dict[str, Any]:
    """The same micro-batch as collate(), packed: one row holding the examples end to end, with
    positions restarting at 0 for each and no attention mask, which transformers reads as sequence
    boundaries (block-diagonal causal attention; varlen kernels under flash attention). No padding
    is computed, and no token attends across examples: the loss equals the padded batch's. Each
    example's first label is dropped, as it is in a padded row (nothing before it predicts it)."""
    import torch

    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    for i in indices:
        tokens, target = examples[i]
        ids += tokens
        labels += [-100] + target[1:]
        positions += range(len(tokens))
    return {
        "input_ids": torch.tensor([ids]),
        "labels": torch.tensor([labels]),
        "position_ids": torch.tensor([positions]),
    }


def completion_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Cross-entropy on completion tokens only, with the output layer applied to just those
    positions: with a large vocabulary that layer is most of the cost, and the prompt needs none."""
    import torch.nn.functional as F

    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids") if k in batch}
    hidden = model.get_decoder()(**inputs, use_cache=False).last_hidden_state  # a cache hides packing
    targets = batch["labels"][:, 1:]
    positions = targets != -100
    logits = model.get_output_embeddings()(hidden[:, :-1][positions]).float()
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = cap * (logits / cap).tanh()
    return F.cross_entropy(logits, targets[positions]), int(positions.sum())
