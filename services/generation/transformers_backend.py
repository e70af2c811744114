"""The in-process transformers backend (the default): batched sampling with the KV cache, int8 or
a GPU's precision as placement.py decides, LoRA adapters, the prefix cache, grammars, and scores
for the label review."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.generation.backends import ModelInfo, ModelSpec
from services.generation.constraint import Constraint
from services.generation.int8_model import INT8_KEEP_FP32, CalibrationCache, quantize_int8
from services.generation.parsing import truncate_at_stop
from services.generation.placement import gpu_batch_size, resolve_placement
from services.generation.prefix_cache import PrefixCache
from shared import defaults
from shared.config import GenerationConfig
from shared.errors import FailedPrecondition
from shared.sampling import Sampling

if TYPE_CHECKING:  # import torch: loaded when first used
    from services.generation.constrain import GrammarEngine, RowConstraints
    from services.generation.decoding import Decoding

log = logging.getLogger("sqldistill.generation")


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    info: ModelInfo
    prefixes: PrefixCache = field(default_factory=PrefixCache)  # this model's, dropped with it
    static: Any = None  # the static loop's StaticDecoder (its cache and compiled step), when used
    grammar: GrammarEngine | None = None  # built on the first constrained request (seconds)


class TransformersBackend:
    """In-process generation: batched sampling with left padding and the KV cache, under
    torch.inference_mode. load() swaps models atomically: calls in flight finish on the model
    they started with."""

    constrain_modes = ("off", "identifiers", "full")

    def __init__(
        self,
        models_dir: Path,
        spec: ModelSpec = ModelSpec(),
        max_batch_size: int = GenerationConfig().max_batch_size,
        threads: int = 0,
        prefix_sharing: bool = True,
        generate_lock: threading.Lock | None = None,
        device: str = "auto",
        precision: str = defaults.GENERATION_PRECISION,
        int8_keep_fp32: tuple[str, ...] = INT8_KEEP_FP32,
        decode_loop: str = "auto",
    ) -> None:
        import torch

        from services.generation.decoding import DECODE_LOOPS

        if decode_loop not in DECODE_LOOPS:
            raise ValueError(
                f"generation decode_loop must be one of {', '.join(DECODE_LOOPS)}, got {decode_loop!r}"
            )
        self.device = device
        self.placement = resolve_placement(device, precision)
        self.int8_keep_fp32 = int8_keep_fp32
        self.models_dir = Path(models_dir)
        self.max_batch_size = max_batch_size
        self.prefix_sharing = prefix_sharing
        if decode_loop == "auto":  # a GPU's decoding step is launch-bound: graphs; a CPU's is not
            decode_loop = "static" if self.placement.device == "cuda" else "compact"
        self.decode_loop = decode_loop  # compact | generate (decoding.py) | static (static_decoding.py)
        torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
        self._swap_lock = threading.Lock()
        self._engines: dict[tuple[str, int, tuple[int, ...]], GrammarEngine] = {}  # by base model
        self.calibration = CalibrationCache()  # int8 scales by model files: a reload skips calibrating
        # One forward pass at a time, all cores to it; backends of one service's slots share it.
        self.generate_lock = generate_lock or threading.Lock()
        self._current = self._load(spec)

    def _load(self, spec: ModelSpec) -> _Loaded:
        from shared.packaged_models import load_causal_lm, resolve_model

        started = time.perf_counter()
        path = resolve_model(spec.path, self.models_dir)
        placement = resolve_placement(self.device, spec.precision) if spec.precision else self.placement
        try:
            model, tokenizer = load_causal_lm(
                path, spec.adapter_path, dtype=placement.load_dtype, device=placement.device
            )
        except (OSError, ValueError) as exc:
            raise FailedPrecondition(f"cannot load model {path!r}: {exc}") from exc
        num_parameters = sum(p.numel() for p in model.parameters())
        if placement.device == "cpu":
            from services.generation.cpu_attention import use_cpu_gqa_attention

            use_cpu_gqa_attention(model)
        if placement.precision == "int8":
            absmax = self.calibration.absmax(str(path), spec.adapter_path, model, tokenizer)
            model = quantize_int8(model, tokenizer, self.int8_keep_fp32, absmax=absmax)
        tokenizer.padding_side = "left"
        static = None
        if self.decode_loop == "static":
            from services.generation.static_decoding import StaticDecoder

            static = StaticDecoder(
                model, compile_mode="reduce-overhead" if placement.device == "cuda" else None
            )
        config = model.config
        info = ModelInfo(
            version=spec.version or Path(str(spec.adapter_path or path)).name,
            path=str(path),
            adapter_path=spec.adapter_path,
            backend="transformers",
            device=placement.device,
            reviews=True,
            precision=placement.precision,
            num_parameters=num_parameters,
            context_window=int(
                getattr(config, "max_position_embeddings", 0) or tokenizer.model_max_length or 2048
            ),
        )
        log.info(
            "loaded %s (%s parameters, %s on %s) in %.1fs",
            info.path,
            f"{info.num_parameters:,}",
            info.precision,
            info.device,
            time.perf_counter() - started,
        )
        return _Loaded(model, tokenizer, info, static=static)

    def load(self, spec: ModelSpec) -> ModelInfo:
        loaded = self._load(spec)  # outside the lock: serving continues while the new model loads
        with self._swap_lock:
            self._current = loaded
        return loaded.info

    def info(self) -> ModelInfo:
        return replace(self._current.info)

    def count_tokens(self, text: str) -> int:
        return len(self._current.tokenizer(text).input_ids)

    def score(self, prompt: str, completions: list[str], contexts: list[str] = ()) -> list[float]:
        """log p(completion | prompt + context) of each completion, under the loaded model (scoring.py)."""
        import torch

        from services.generation.scoring import completion_logprobs

        loaded = self._current
        with self.generate_lock, torch.inference_mode():
            return completion_logprobs(
                loaded.model,
                loaded.tokenizer,
                loaded.prefixes,
                self._empty_cache(),
                prompt,
                completions,
                contexts,
            )

    def generate(
        self,
        prompts: list[str],
        n: int,
        sampling: Sampling,
        constraints: list[Constraint | None] | None = None,
    ) -> list[list[str]]:
        import torch

        from services.generation.constrain import RowGrammar
        from services.generation.decoding import Decoding

        loaded = self._current  # a snapshot: a concurrent load() does not affect this call
        tokenizer = loaded.tokenizer
        expanded = [p for p in prompts for _ in range(n)]
        per_prompt = [
            RowGrammar(c.lark(), c.schema.db_id) if c is not None and c.mode != "off" else None
            for c in (constraints or [None] * len(prompts))
        ]
        grammars = [g for g in per_prompt for _ in range(n)]  # each prompt's n rows share its grammar
        outputs: list[str] = []
        settings = Decoding(
            max_new_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p or 1.0,
            stop=tuple(sampling.stop),
        )
        size = self._batch_size(loaded, expanded, sampling.max_new_tokens)
        with self.generate_lock, torch.inference_mode():
            torch.manual_seed(sampling.seed)
            engine = self._grammar_engine(loaded) if any(grammars) else None
            for start in range(0, len(expanded), size):
                batch = expanded[start : start + size]
                rows = engine.rows(grammars[start : start + size]) if engine is not None else None
                for row in self._generate_batch(loaded, batch, settings, rows):
                    text = tokenizer.decode(row, skip_special_tokens=True)
                    outputs.append(truncate_at_stop(text, sampling.stop))
        return [outputs[i * n : (i + 1) * n] for i in range(len(prompts))]

    def _grammar_engine(self, loaded: _Loaded) -> GrammarEngine:
        """The model's grammar engine: its tokenizer's view, about 5 s for a 150k vocabulary, so it
        is built once per base model and shared by the versions trained from it (same tokenizer)."""
        if loaded.grammar is None:
            from services.generation.constrain import GrammarEngine
            from services.generation.decoding import end_token_ids

            vocab = int(loaded.model.config.vocab_size)
            ends = end_token_ids(loaded.model, loaded.tokenizer)
            key = (loaded.info.path, vocab, tuple(ends))
            if key not in self._engines:
                self._engines[key] = GrammarEngine(loaded.tokenizer, vocab, ends)
            loaded.grammar = self._engines[key]
        return loaded.grammar

    def _batch_size(self, loaded: _Loaded, prompts: list[str], max_new_tokens: int) -> int:
        """The configured size on a CPU; on a GPU, what its free memory holds for the longest row."""
        if self.placement.device != "cuda" or not prompts:
            return self.max_batch_size
        import torch

        longest = max(len(ids) for ids in loaded.tokenizer(prompts).input_ids) + max_new_tokens
        free_bytes, _total = torch.cuda.mem_get_info()
        free_bytes += torch.cuda.memory_reserved() - torch.cuda.memory_allocated()  # torch's pool, reusable
        dtype_bytes = self.placement.load_dtype.itemsize
        if loaded.static is not None:
            return loaded.static.batch_size(longest, free_bytes, dtype_bytes)
        return gpu_batch_size(loaded.model.config, longest, free_bytes, dtype_bytes)

    def _generate_batch(
        self,
        loaded: _Loaded,
        prompts: list[str],
        settings: Decoding,
        constraints: RowConstraints | None = None,
    ) -> list[list[int]]:
        """Generated token rows for one batch. Prompts in a batch share a long prefix (few-shot block
        and schema; and n samples of one prompt share all of it): that prefix is run through the
        model once and its KV cache copied to every row, so prefill is paid once, not per row. The
        rows' distinct tails are padded in the middle, masked out, positions counted past the gap.
        A prefix prefilled by an earlier batch is reused (prefix_cache.py). The static loop prefills
        every row whole: its cache is laid out once per shape, and a GPU's prefill is cheap."""
        import torch

        model, tokenizer = loaded.model, loaded.tokenizer
        if loaded.static is not None:
            batch = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
            return loaded.static.decode(
                tokenizer, batch["input_ids"], batch["attention_mask"], settings, constraints
            )
        encoded = [tokenizer(p).input_ids for p in prompts]
        shared = _common_prefix_length(encoded)
        shared = min(shared, min(len(e) for e in encoded) - 1)  # every row keeps a token to feed
        if not self.prefix_sharing or len(prompts) == 1 or shared < MIN_SHARED_PREFIX:
            batch = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
            ids, mask = batch["input_ids"], batch["attention_mask"]
            return self._decode(model, tokenizer, ids, mask, self._empty_cache(), settings, constraints)
        cache = loaded.prefixes.prefill(model, encoded[0][:shared], self._empty_cache())
        cache.batch_repeat_interleave(len(prompts))
        tails = [e[shared:] for e in encoded]
        width = max(len(t) for t in tails)
        pad = tokenizer.pad_token_id
        ids = torch.tensor(
            [encoded[0][:shared] + [pad] * (width - len(t)) + t for t in tails], device=model.device
        )
        mask = torch.tensor(
            [[1] * shared + [0] * (width - len(t)) + [1] * len(t) for t in tails], device=model.device
        )
        return self._decode(model, tokenizer, ids, mask, cache, settings, constraints)

    def _decode(
        self,
        model: Any,
        tokenizer: Any,
        ids: Any,
        mask: Any,
        cache: Any,
        settings: Decoding,
        constraints: RowConstraints | None = None,
    ) -> list[list[int]]:
        """The configured loop; constrained rows always take the compact loop (generate() has no
        place for a per-row matcher that must see each chosen token)."""
        from services.generation.decoding import decode, generate_rows

        if constraints:
            return decode(model, tokenizer, ids, mask, cache, settings, constraints)
        loop = generate_rows if self.decode_loop == "generate" else decode
        return loop(model, tokenizer, ids, mask, cache, settings)

    def _empty_cache(self) -> Any:
        """The compact loop writes into preallocated room (kv_cache.py); generate() concatenates."""
        from transformers import DynamicCache

        from services.generation.kv_cache import GrowingCache

        return DynamicCache() if self.decode_loop == "generate" else GrowingCache()


MIN_SHARED_PREFIX = 16


def _common_prefix_length(sequences: list[list[int]]) -> int:
    first = sequences[0]
    length = min(len(s) for s in sequences)
    for index in range(length):
        token = first[index]
        if any(s[index] != token for s in sequences):
            return index
    return length
