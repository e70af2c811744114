"""CPU generation (`make bench`): today's paths against the path the speed issue started from,
same model, same held-out questions, same production prompts, same run, for each packaged model.

Paths: `reference` (fp32, transformers' generate(), 8 rows a batch: what the issue measured, with
the prefix cache it has since gained), `fp32` and `int8` (the compact decoding loop - finished rows
leave the batch, the KV cache written in place - at the configured CPU batch size). Two figures of
speed: tokens/s at a fixed output length (the same prompts, every row made to generate exactly
`--tokens`, so every path does the same work), and generated tokens/s answering the held-out
questions greedily (outputs then differ in length); and the greedy execution accuracy of each on the
bundled held-out split with paired wins/losses against the reference. Prints figures and writes them
as JSON; asserts nothing about time.

torch is imported inside functions only: the critic's sandbox workers are spawned processes, which
import this module again, and a worker busy importing torch misses its first queries' deadlines."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path

from services.critic.logic import Critic, PredictionIn
from services.critic.sandbox_pool import SandboxPool
from services.generation.backends import ModelInfo, ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.prefix_cache import PrefixCache
from services.generation.requests import QuestionIn
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue, Example
from shared.config import GenerationConfig
from shared.fewshot import question_prompt
from shared.packaged_models import DEFAULT_MODEL, FAST_MODEL
from shared.stats import compare_paired


@dataclass(frozen=True)
class GenerationPath:
    precision: str
    decode_loop: str
    batch: int


def paths(batch: int) -> dict[str, GenerationPath]:
    return {
        "reference": GenerationPath("fp32", "generate", 8),
        "fp32": GenerationPath("fp32", "compact", batch),
        "int8": GenerationPath("int8", "compact", batch),
    }


class TimedBackend:
    """A backend that counts the tokens it generates and the seconds it spends."""

    def __init__(self, backend: TransformersBackend) -> None:
        self.backend = backend
        self.tokens = 0
        self.seconds = 0.0

    @property
    def constrain_modes(self) -> tuple[str, ...]:
        return self.backend.constrain_modes

    def generate(
        self, prompts: list[str], n: int, sampling: Sampling, constraints: list | None = None
    ) -> list[list[str]]:
        started = time.perf_counter()
        outputs = self.backend.generate(prompts, n, sampling, constraints)
        self.seconds += time.perf_counter() - started
        self.tokens += sum(self.backend.count_tokens(text) for samples in outputs for text in samples)
        return outputs

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def load(self, spec: ModelSpec) -> ModelInfo:
        return self.backend.load(spec)

    def info(self) -> ModelInfo:
        return self.backend.info()


def fixed_length_speed(backend: TransformersBackend, prompts: list[str], tokens: int) -> float:
    """Generated tokens/s with every row made to generate exactly `tokens` (end of text held off),
    through the backend's own batching, shared-prefix prefill and decoding loop."""
    import torch

    from services.generation.decoding import Decoding  # imports torch: not at module level (below)

    loaded = backend._current
    exact = Decoding(max_new_tokens=tokens, min_new_tokens=tokens)
    with torch.inference_mode():
        # Warm up without the prefix cache: the timed batches start from a cold one.
        cold = replace(loaded, prefixes=PrefixCache(entries=0))
        backend._generate_batch(cold, prompts[:2], Decoding(max_new_tokens=2))
        started = time.perf_counter()
        generated = 0
        for start in range(0, len(prompts), backend.max_batch_size):
            batch = prompts[start : start + backend.max_batch_size]
            rows = backend._generate_batch(loaded, batch, exact)
            generated += sum(len(row) for row in rows)
        seconds = time.perf_counter() - started
    return round(generated / seconds, 2)


def compare(
    model: str,
    catalogue: Catalogue,
    dev: list[Example],
    home: Path,
    shots: int,
    tokens: int,
    batch: int,
    fixed_rows: int,
) -> dict:
    timed = {
        name: TimedBackend(
            TransformersBackend(
                home / "models",
                ModelSpec(model),
                max_batch_size=path.batch,
                precision=path.precision,
                decode_loop=path.decode_loop,
            )
        )
        for name, path in paths(batch).items()
    }
    seeds = catalogue.examples("seed")
    prompts = [question_prompt(catalogue, seeds, e.db_id, e.question, shots) for e in dev[:fixed_rows]]
    fixed = {name: fixed_length_speed(backend.backend, prompts, tokens) for name, backend in timed.items()}
    greedy = Sampling(temperature=0.0, max_new_tokens=128)
    generators = {
        name: Generator(catalogue, backend, seeds, default_k=shots) for name, backend in timed.items()
    }
    sql: dict[str, list[str]] = {name: [] for name in timed}
    # Alternate halves (reference, fp32, int8, reference, ...) so drift in the machine's speed falls
    # on every path alike.
    half = len(dev) // 2
    for part in (dev[:half], dev[half:]):
        questions = [QuestionIn(e.id, e.db_id, e.question) for e in part]
        for name, generator in generators.items():
            results, _version = generator.generate_sql(questions, 1, sampling=greedy)
            sql[name] += [r.sql[0] if r.sql else "" for r in results]
    critic = Critic(catalogue, SandboxPool(workers=2))
    correct: dict[str, dict[str, bool]] = {}
    figures: dict = {
        "model": timed["reference"].info().path,
        "questions": len(dev),
        "few_shot_k": shots,
        "fixed_length": {"rows": len(prompts), "tokens": tokens},
        "paths": {name: vars(path) for name, path in paths(batch).items()},
    }
    try:
        for name, backend in timed.items():
            report, scores = critic.evaluate(
                [PredictionIn(e.id, e.db_id, e.query, s) for e, s in zip(dev, sql[name], strict=True)]
            )
            correct[name] = {score.id: score.execution_match for score in scores}
            figures[name] = {
                "fixed_length_tokens_per_second": fixed[name],
                "execution_accuracy": round(report.execution, 4),
                "seconds": round(backend.seconds, 1),
                "generated_tokens": backend.tokens,
                "tokens_per_second": round(backend.tokens / backend.seconds, 2),
            }
    finally:
        critic.close()
    reference = figures["reference"]
    for name in ("fp32", "int8"):
        paired = compare_paired(correct[name], correct["reference"])
        figures[name].update(
            fixed_length_ratio=round(fixed[name] / fixed["reference"], 2),
            tokens_per_second_ratio=round(
                figures[name]["tokens_per_second"] / reference["tokens_per_second"], 2
            ),
            seconds_ratio=round(reference["seconds"] / figures[name]["seconds"], 2),
            execution_difference=round(
                figures[name]["execution_accuracy"] - reference["execution_accuracy"], 4
            ),
            wins=paired.wins,
            losses=paired.losses,
            p_value=round(paired.p_value, 3),
            same_sql=sum(a.strip() == b.strip() for a, b in zip(sql["reference"], sql[name], strict=True)),
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/cpu_generation.json"))
    parser.add_argument("--models", nargs="+", default=[FAST_MODEL, DEFAULT_MODEL])
    parser.add_argument("--limit", type=int, default=0, help="held-out questions (0 = all 90)")
    parser.add_argument("--few-shot-k", type=int, default=2)
    parser.add_argument(
        "--batch", type=int, default=GenerationConfig().max_batch_size, help="rows a batch, new paths"
    )
    parser.add_argument("--tokens", type=int, default=64, help="output length of the fixed-length speed run")
    parser.add_argument("--fixed-rows", type=int, default=16, help="prompts in the fixed-length speed run")
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    catalogue = Catalogue.load(ensure_built(args.home / "bundled"))
    dev = catalogue.examples("dev")
    dev = dev[: args.limit] if args.limit else dev
    started = time.perf_counter()
    figures = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "models": [
            compare(
                model, catalogue, dev, args.home, args.few_shot_k, args.tokens, args.batch, args.fixed_rows
            )
            for model in args.models
        ],
        "minutes": 0.0,
    }
    figures["minutes"] = round((time.perf_counter() - started) / 60, 1)
    for entry in figures["models"]:
        reference = entry["reference"]
        for name in ("fp32", "int8"):
            path = entry[name]
            print(
                f"{Path(entry['model']).name} {name} vs reference: fixed length {path['fixed_length_ratio']}x "
                f"({path['fixed_length_tokens_per_second']} vs {reference['fixed_length_tokens_per_second']} tok/s); "
                f"held-out answers {path['tokens_per_second_ratio']}x tok/s ({path['seconds']} vs "
                f"{reference['seconds']} s); EX {path['execution_accuracy']} vs {reference['execution_accuracy']} "
                f"on {entry['questions']} ({path['wins']} W / {path['losses']} L, p = {path['p_value']}); "
                f"same SQL {path['same_sql']}/{entry['questions']}"
            )
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
