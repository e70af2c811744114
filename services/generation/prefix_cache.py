"""Prefilled prompt prefixes kept across batches and calls: prompts on one database share the
few-shot block and the schema (hundreds of tokens), and a database's questions - or one question's
n samples - arrive in several batches, each of which prefilled that prefix again. A hit copies the
stored KV cache and prefills only the tokens past it."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

PREFIX_CACHE_ENTRIES = 8  # a KV cache of a 600-token prefix: ~15 MB on the 0.5B model in fp32


class PrefixCache:
    """Least-recently-used prefix KV caches of one model (batch size 1), keyed by token ids."""

    def __init__(self, entries: int = PREFIX_CACHE_ENTRIES) -> None:
        self.entries = entries
        self._stored: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def prefill(self, model: Any, tokens: list[int], empty: Any = None) -> Any:
        """A KV cache holding `tokens` (batch size 1, the caller's own copy to extend): the longest
        stored prefix of `tokens` copied and extended, or `empty` (a new cache; None = the model's
        default) filled by a fresh prefill."""
        import torch

        key = tuple(tokens)
        with self._lock:
            longest = max((k for k in self._stored if key[: len(k)] == k), key=len, default=())
            cache = copy.deepcopy(self._stored[longest]) if longest else empty
            if longest:
                self._stored.move_to_end(longest)
                self.hits += 1
            else:
                self.misses += 1
        rest = tokens[len(longest) :]
        if rest:
            out = model(input_ids=torch.tensor([rest], device=model.device), cache=cache, use_cache=True)
            cache = out["cache"] if "cache" in out else out.past_key_values
            if self.entries:
                with self._lock:
                    self._stored[key] = copy.deepcopy(cache)
                    while len(self._stored) > self.entries:
                        self._stored.popitem(last=False)
        return cache
