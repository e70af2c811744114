"""Generation benchmark (`make bench`): batched sampling vs a naive one-prompt-at-a-time loop on the
same prompts, same model, same run; time to the first streamed pair; peak RSS. Prints figures and
writes them as JSON; asserts nothing about time."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

from services.generation.backends import ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.fewshot import select_examples, shots_for
from shared.prompts import schema_for_prompt, sql_prompt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/generation.json"))
    parser.add_argument("--model", default="", help="model path / hub id / packaged name ('' = default)")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--samples", type=int, default=2, help="samples per prompt")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--home", type=Path, default=Path("var"))
    parser.add_argument("--no-prefix-sharing", action="store_true")
    args = parser.parse_args()

    data = ensure_built(args.home / "bundled")
    catalogue = Catalogue.load(data)
    started = time.perf_counter()
    backend = TransformersBackend(
        args.home / "models",
        ModelSpec(args.model),
        max_batch_size=args.batch,
        prefix_sharing=not args.no_prefix_sharing,
    )
    load_seconds = time.perf_counter() - started
    seeds, dev = catalogue.examples("seed"), catalogue.examples("dev")[: args.prompts]
    # As the generation service builds them: few-shot examples chosen per database.
    prompts = [
        sql_prompt(
            e.db_id,
            schema_for_prompt(catalogue.schema(e.db_id)),
            e.question,
            shots_for(catalogue, select_examples(seeds, e.db_id, 1, key=e.db_id)),
        )
        for e in dev
    ]
    sampling = Sampling(temperature=0.8, top_p=0.95, max_new_tokens=args.max_new_tokens, seed=0, stop=())
    tokenizer = backend._current.tokenizer

    def count(outputs: list[list[str]]) -> int:
        return sum(len(tokenizer(text).input_ids) for samples in outputs for text in samples)

    backend.generate(prompts[:1], 1, Sampling(max_new_tokens=4, stop=()))  # warm-up
    # Alternate halves (batched, naive, batched, naive) so slow drift of the machine's speed over
    # the run (other load, throttling) falls on both sides alike.
    half = len(prompts) // 2
    naive, batched, naive_seconds, batched_seconds = [], [], 0.0, 0.0
    for part in (prompts[:half], prompts[half:]):
        started = time.perf_counter()
        batched += backend.generate(part, args.samples, sampling)
        batched_seconds += time.perf_counter() - started
        started = time.perf_counter()
        naive += [backend_single(backend, p, args.samples, sampling) for p in part]
        naive_seconds += time.perf_counter() - started
    sequences = len(prompts) * args.samples

    generator = Generator(catalogue, backend, seeds, default_k=1, pair_batch_size=args.batch)
    started = time.perf_counter()
    stream = generator.generate_pairs(
        dev[0].db_id, 4, sampling=Sampling(temperature=0.8, top_p=0.95, max_new_tokens=64)
    )
    first = next(stream, None)
    first_pair_seconds = time.perf_counter() - started
    stream.close()

    figures = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "model": backend.info().path,
        "parameters": backend.info().num_parameters,
        "load_seconds": round(load_seconds, 1),
        "prompts": len(prompts),
        "samples_per_prompt": args.samples,
        "prompt_tokens_avg": round(sum(len(tokenizer(p).input_ids) for p in prompts) / len(prompts)),
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch,
        "prefix_sharing": not args.no_prefix_sharing,
        "naive_seconds": round(naive_seconds, 2),
        "naive_sequences_per_second": round(sequences / naive_seconds, 3),
        "naive_tokens_per_second": round(count(naive) / naive_seconds, 1),
        "batched_seconds": round(batched_seconds, 2),
        "batched_sequences_per_second": round(sequences / batched_seconds, 3),
        "batched_tokens_per_second": round(count(batched) / batched_seconds, 1),
        "speedup": round(naive_seconds / batched_seconds, 2),
        "first_pair_seconds": round(first_pair_seconds, 2),
        "first_pair": None if first is None else f"{first.question} | {first.sql}",
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }
    for key, value in figures.items():
        print(f"{key:30s} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


def backend_single(backend: TransformersBackend, prompt: str, samples: int, sampling: Sampling) -> list[str]:
    """The naive loop: one generate() call per prompt and sample, as a first implementation would."""
    import torch

    model, tokenizer = backend._current.model, backend._current.tokenizer
    outputs = []
    with torch.inference_mode():
        for _ in range(samples):
            batch = tokenizer(prompt, return_tensors="pt")
            generated = model.generate(
                **batch,
                do_sample=True,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_new_tokens=sampling.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
            )
            outputs.append(
                tokenizer.decode(generated[0, batch["input_ids"].shape[1] :], skip_special_tokens=True)
            )
    return outputs


if __name__ == "__main__":
    main()
