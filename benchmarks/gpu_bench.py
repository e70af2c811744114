"""GPU benchmark: training tokens/s and MFU (LoRA and full fine-tuning, padded and packed
micro-batches) and generation tokens/s, for random-init models of the packaged models' shapes
(speed does not depend on the weights; real weights cannot travel to a GPU machine).

    python3 -m benchmarks.gpu_bench --out gpu.json      # on a GPU machine, about 5 minutes
    python3 -m benchmarks.gpu_bench --smoke             # tiny shape on the CPU (the test suite)

It needs only torch, transformers and peft: training runs the trainer's own collate / packing /
loss functions (services/trainer/batches.py) and generation the backend's decoding loop, KV cache
and batch sizing from free memory (services/generation/decoding.py, kv_cache.py, placement.py), all importable without this project's other
dependencies. Row lengths are those of the bundled training rows (data/training_row_lengths.json).
MFU follows the usual convention, 6 x parameters x tokens/s over the card's dense bf16 peak, for
LoRA too (whose backward skips the frozen weights' gradients), so the two compare on one scale."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
# Dense bf16 peaks (TFLOP/s) by device-name fragment, most specific first.
PEAK_TFLOPS = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H200 NVL", 835.0),
    ("H200", 989.0),
    ("H100", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L4", 121.0),
    ("A10", 125.0),
)


def peak_tflops(device_name: str) -> float | None:
    return next((peak for fragment, peak in PEAK_TFLOPS if fragment in device_name), None)


def build_model(shape: dict[str, Any], device: str, dtype: Any) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(shape["config"])
    config = AutoConfig.for_model(config.pop("model_type"), **config)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    return model.to(device)


def parameter_count(model: Any) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def training_examples(lengths: list[list[int]], vocab: int, count: int, seed: int = 0):
    """(input_ids, labels) with random token ids and the bundled rows' prompt / completion lengths."""
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        prompt, completion = lengths[index % len(lengths)]
        ids = [rng.randrange(vocab) for _ in range(prompt + completion)]
        examples.append((ids, [-100] * prompt + ids[prompt:]))
    return examples


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def bench_training(
    shape: dict[str, Any],
    lengths: list[list[int]],
    method: str,
    packing: bool,
    batch_size: int,
    steps: int,
    warmup: int,
    device: str,
    dtype: Any,
) -> dict[str, Any]:
    import torch

    from services.trainer.batches import batch_order, collate, collate_packed, completion_loss

    # As the trainer holds them: trained weights in fp32 (full), a LoRA run's frozen base in the
    # compute format; the matmuls under bf16 autocast either way.
    model = build_model(shape, device, torch.float32 if method == "full" else dtype)
    parameters = parameter_count(model)
    if method.startswith("lora"):
        from peft import LoraConfig, get_peft_model

        # "lora" is the trainer's default (no dropout); "lora_dropout" the old default, 0.05 (a
        # dropped copy of every adapted layer's input), to tell how much of LoRA's cost that copy is.
        model = get_peft_model(
            model,
            LoraConfig(
                r=16,
                lora_alpha=32,
                lora_dropout=0.05 if method == "lora_dropout" else 0.0,  # TrainingParams (grpc-free here)
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            ),
        )
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5, weight_decay=0.0)
    examples = training_examples(lengths, shape["config"]["vocab_size"], batch_size * (steps + warmup))
    row_lengths = [len(e[0]) for e in examples]
    batches = batch_order(row_lengths, batch_size, 0, 0, True)
    tokens = padded = 0
    started = 0.0
    for index, indices in enumerate(batches[: steps + warmup]):
        if index == warmup:
            sync(device)
            started = time.perf_counter()
        rows = collate_packed(examples, indices) if packing else collate(examples, indices, 0)
        batch = {k: v.to(device) for k, v in rows.items()}
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype != torch.float32):
            loss, _count = completion_loss(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if index >= warmup:
            tokens += sum(row_lengths[i] for i in indices)
            padded += batch["input_ids"].numel()
    sync(device)
    seconds = time.perf_counter() - started
    figures = {
        "method": method,
        "packing": packing,
        "batch_size": batch_size,
        "steps": steps,
        "parameters": parameters,
        "tokens_per_second": round(tokens / seconds, 1),
        "padding_waste": round(1 - tokens / padded, 4),
        "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if device == "cuda" else None,
    }
    del model, optimizer
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    return figures


def bench_generation(
    shape: dict[str, Any],
    lengths: list[list[int]],
    batch_size: int,
    new_tokens: int,
    device: str,
    dtype: Any,
    loop: str = "compact",
) -> dict[str, Any]:
    """Greedy generation of exactly `new_tokens` per row from prompts of the bundled rows' lengths,
    through the backend's compact loop or its static one (compiled with CUDA graphs on a GPU; the
    compile, in the untimed first run of the same shape, is reported apart)."""
    import torch

    from services.generation.decoding import Decoding, decode
    from services.generation.kv_cache import GrowingCache
    from services.generation.placement import gpu_batch_size
    from services.generation.static_decoding import COMPILE_AFTER, StaticDecoder

    model = build_model(shape, device, dtype).eval()
    decoder = StaticDecoder(model, compile_mode="reduce-overhead" if device == "cuda" else None)
    prompt_length = max(prompt for prompt, _ in lengths[:64])
    if batch_size == 0:  # as the backend sizes it: from free memory on a GPU
        free, _total = torch.cuda.mem_get_info()
        if loop == "static":
            batch_size = decoder.batch_size(prompt_length + new_tokens, free, dtype_bytes=2)
        else:
            batch_size = gpu_batch_size(model.config, prompt_length + new_tokens, free, dtype_bytes=2)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (batch_size, prompt_length), generator=generator).to(
        device
    )
    mask = torch.ones_like(ids)
    exact = Decoding(max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    with torch.inference_mode():
        started = time.perf_counter()
        if loop == "static":  # eager first batch, then the step compiled for this very shape
            for _ in range(COMPILE_AFTER + 1):
                decoder.decode(None, ids, mask, exact)
        else:
            decode(model, None, ids[:1, :16], mask[:1, :16], GrowingCache(), Decoding(max_new_tokens=2))
        sync(device)
        warmup = time.perf_counter() - started
        started = time.perf_counter()
        if loop == "static":
            rows = decoder.decode(None, ids, mask, exact)
        else:
            rows = decode(model, None, ids, mask, GrowingCache(), exact)
        sync(device)
    seconds = time.perf_counter() - started
    generated = sum(len(row) for row in rows)
    del model, decoder  # the decoder holds the model and its static cache
    if device == "cuda":
        torch.cuda.empty_cache()
    return {
        "loop": loop,
        "batch_size": batch_size,
        "prompt_tokens": prompt_length,
        "new_tokens": new_tokens,
        "tokens_per_second": round(generated / seconds, 1),
        "warmup_seconds": round(warmup, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/gpu.json"))
    parser.add_argument("--shapes", default="135m,0.5b,1.5b")
    parser.add_argument(
        "--methods", default="lora,lora_dropout,full", help="lora (the default), lora_dropout (0.05), full"
    )
    parser.add_argument("--batch-size", type=int, default=16, help="training micro-batch (rows)")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--loops", default="compact,static", help="decoding loops to time: compact, static")
    parser.add_argument(
        "--peak-tflops", type=float, default=0.0, help="the card's dense bf16 peak (0 = known cards)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny shape, 2 steps, on the CPU (the test suite)"
    )
    args = parser.parse_args(argv)
    import torch

    if args.smoke:
        args.shapes, args.batch_size, args.steps, args.warmup, args.new_tokens = "tiny", 2, 2, 1, 4
    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    peak = args.peak_tflops or (peak_tflops(name) if device == "cuda" else None)
    shapes = json.loads((DATA / "gpu_shapes.json").read_text())
    row_lengths = json.loads((DATA / "training_row_lengths.json").read_text())
    report: dict[str, Any] = {
        "device": name,
        "peak_bf16_tflops": peak,
        "torch": torch.__version__,
        "shapes": {},
    }
    started = time.perf_counter()
    for shape_name in args.shapes.split(","):
        shape = shapes[shape_name]
        lengths = row_lengths[shape["tokenizer"]]
        entry: dict[str, Any] = {"training": [], "generation": []}
        for method in args.methods.split(","):
            for packing in (False, True):
                figures = bench_training(
                    shape, lengths, method, packing, args.batch_size, args.steps, args.warmup, device, dtype
                )
                flops = 6 * figures["parameters"] * figures["tokens_per_second"]
                figures["mfu"] = round(flops / (peak * 1e12), 4) if peak else None
                entry["training"].append(figures)
                print(f"{shape_name} train {json.dumps(figures)}", flush=True)
        for batch_size in (8 if not args.smoke else 2, 0 if device == "cuda" else None):
            if batch_size is None:
                continue
            for loop in args.loops.split(","):
                figures = bench_generation(shape, lengths, batch_size, args.new_tokens, device, dtype, loop)
                entry["generation"].append(figures)
                print(f"{shape_name} generate {json.dumps(figures)}", flush=True)
        report["shapes"][shape_name] = entry
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["modules"] = sorted({name.split(".")[0] for name in sys.modules})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out} in {report['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
