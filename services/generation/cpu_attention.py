"""SDPA attention for CPUs with grouped-query heads left to the kernel, registered with transformers.

With a padding mask and more than one query position (a batch's prompt tails after the shared
prefix), transformers' `sdpa` copies each key/value head once per query head it serves (`repeat_kv`)
before calling torch's kernel - on CUDA a masked grouped-query call would fall back to the slow math
kernel. torch's CPU flash kernel takes grouped heads and a mask directly (`enable_gqa`), so on CPUs
that copy is skipped: the tails of 30 prompts over a 650-token prefix prefill in about half the time
on SmolLM2-135M (4-5 s vs 2.4 s), with the same logits. Every other call goes to transformers' own."""

from __future__ import annotations

from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "sdpa_cpu_gqa"


def sdpa_cpu_gqa(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    masked_grouped_prefill = (
        attention_mask is not None
        and query.shape[2] > 1
        and query.shape[1] != key.shape[1]
        and kwargs.get("position_bias") is None
        and kwargs.get("softcap") is None
        and query.device.type == "cpu"
    )
    if not masked_grouped_prefill:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    output = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, enable_gqa=True
    )
    return output.transpose(1, 2).contiguous(), None


def use_cpu_gqa_attention(model: Any) -> None:
    """Switch a loaded model that runs transformers' `sdpa` to this attention."""
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    AttentionInterface.register(NAME, sdpa_cpu_gqa)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    model.set_attn_implementation(NAME)
