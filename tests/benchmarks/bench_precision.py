"""CPU generation precision (`make bench`): the int8 path (services/generation/quantize.py) against
the fp32 path, same model, same held-out questions, same production prompts, same run, for each
packaged model. Two figures of speed: tokens/s at a fixed output length (every row generates exactly
`--tokens`, so both paths do the same work), and seconds per question when answering the held-out
questions greedily (outputs then differ in length); and the greedy execution accuracy of each on the
bundled held-out split with the paired wins/losses between them. Prints figures and writes them as
JSON; asserts nothing about time."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from services.critic.logic import Critic, PredictionIn
from services.critic.sandbox import SandboxPool
from services.generation.backends import ModelInfo, ModelSpec, Sampling, TransformersBackend
from services.generation.logic import Generator, QuestionIn
from services.generation.quantize import INT8_KEEP_FP32
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue, Example
from shared.packaged_models import DEFAULT_MODEL, FAST_MODEL
from shared.stats import compare_paired

PRECISIONS = ("fp32", "int8")


class TimedBackend:
    """A backend that counts the tokens it generates and the seconds it spends."""

    def __init__(self, backend: TransformersBackend) -> None:
        self.backend = backend
        self.tokens = 0
        self.seconds = 0.0

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        started = time.perf_counter()
        outputs = self.backend.generate(prompts, n, sampling)
        self.seconds += time.perf_counter() - started
        self.tokens += sum(self.backend.count_tokens(text) for samples in outputs for text in samples)
        return outputs

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def load(self, spec: ModelSpec) -> ModelInfo:
        return self.backend.load(spec)

    def info(self) -> ModelInfo:
        return self.backend.info()


def fixed_length_speed(
    backend: TransformersBackend, catalogue: Catalogue, dev: list[Example], shots: int, tokens: int
) -> float:
    """Generated tokens/s with every row made to generate exactly `tokens` (end-of-text ignored),
    through the backend's own batching and shared-prefix prefill, on the first batch of questions."""
    import torch

    from shared.fewshot import question_prompt

    loaded = backend._current
    seeds = catalogue.examples("seed")
    prompts = [
        question_prompt(catalogue, seeds, e.db_id, e.question, shots) for e in dev[: backend.max_batch_size]
    ]
    kwargs = dict(
        max_new_tokens=tokens,
        min_new_tokens=tokens,
        do_sample=False,
        pad_token_id=loaded.tokenizer.pad_token_id,
    )
    with torch.inference_mode():
        backend._generate_batch(
            loaded.model, loaded.tokenizer, prompts[:1], dict(kwargs, max_new_tokens=2, min_new_tokens=2)
        )
        started = time.perf_counter()
        rows = backend._generate_batch(loaded.model, loaded.tokenizer, prompts, kwargs)
        seconds = time.perf_counter() - started
    return round(rows.numel() / seconds, 2)


def compare(
    model: str,
    catalogue: Catalogue,
    dev: list[Example],
    home: Path,
    shots: int,
    tokens: int,
    keep: tuple[str, ...],
) -> dict:
    timed = {
        precision: TimedBackend(
            TransformersBackend(home / "models", ModelSpec(model), precision=precision, int8_keep_fp32=keep)
        )
        for precision in PRECISIONS
    }
    generators = {
        precision: Generator(catalogue, backend, catalogue.examples("seed"), default_k=shots)
        for precision, backend in timed.items()
    }
    fixed = {
        precision: fixed_length_speed(backend.backend, catalogue, dev, shots, tokens)
        for precision, backend in timed.items()
    }
    greedy = Sampling(temperature=0.0, max_new_tokens=128)
    sql: dict[str, list[str]] = {precision: [] for precision in PRECISIONS}
    # Alternate halves (fp32, int8, fp32, int8) so drift in the machine's speed falls on both alike.
    half = len(dev) // 2
    for part in (dev[:half], dev[half:]):
        questions = [QuestionIn(e.id, e.db_id, e.question) for e in part]
        for precision, generator in generators.items():
            results, _version = generator.generate_sql(questions, 1, sampling=greedy)
            sql[precision] += [r.sql[0] if r.sql else "" for r in results]
    critic = Critic(catalogue, SandboxPool(workers=2))
    correct: dict[str, dict[str, bool]] = {}
    figures: dict = {"model": timed["fp32"].info().path, "questions": len(dev), "few_shot_k": shots}
    try:
        for precision in PRECISIONS:
            report, scores = critic.evaluate(
                [PredictionIn(e.id, e.db_id, e.query, s) for e, s in zip(dev, sql[precision], strict=True)]
            )
            correct[precision] = {score.id: score.execution_match for score in scores}
            backend = timed[precision]
            figures[precision] = {
                "fixed_length_tokens_per_second": fixed[precision],
                "execution_accuracy": round(report.execution, 4),
                "seconds": round(backend.seconds, 1),
                "seconds_per_question": round(backend.seconds / len(dev), 2),
                "generated_tokens": backend.tokens,
                "tokens_per_second": round(backend.tokens / backend.seconds, 2),
            }
    finally:
        critic.close()
    paired = compare_paired(correct["int8"], correct["fp32"])
    figures["fixed_length_ratio"] = round(fixed["int8"] / fixed["fp32"], 2)
    figures["tokens_per_second_ratio"] = round(
        figures["int8"]["tokens_per_second"] / figures["fp32"]["tokens_per_second"], 2
    )
    figures["seconds_ratio"] = round(figures["fp32"]["seconds"] / figures["int8"]["seconds"], 2)
    figures["execution_difference"] = round(
        figures["int8"]["execution_accuracy"] - figures["fp32"]["execution_accuracy"], 4
    )
    figures["int8_vs_fp32"] = {
        "wins": paired.wins,
        "losses": paired.losses,
        "p_value": round(paired.p_value, 3),
    }
    figures["same_sql"] = sum(a.strip() == b.strip() for a, b in zip(sql["fp32"], sql["int8"], strict=True))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/precision.json"))
    parser.add_argument("--models", nargs="+", default=[FAST_MODEL, DEFAULT_MODEL])
    parser.add_argument("--limit", type=int, default=0, help="held-out questions (0 = all 90)")
    parser.add_argument("--few-shot-k", type=int, default=2)
    parser.add_argument(
        "--int8-keep", default=",".join(INT8_KEEP_FP32), help="Linear layers (name suffixes) kept in fp32"
    )
    parser.add_argument("--tokens", type=int, default=64, help="output length of the fixed-length speed run")
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    data = ensure_built(args.home / "bundled")
    catalogue = Catalogue.load(data)
    dev = catalogue.examples("dev")
    dev = dev[: args.limit] if args.limit else dev
    keep = tuple(name for name in args.int8_keep.split(",") if name)
    started = time.perf_counter()
    figures = {
        "int8_keep_fp32": list(keep),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "models": [
            compare(model, catalogue, dev, args.home, args.few_shot_k, args.tokens, keep)
            for model in args.models
        ],
        "minutes": 0.0,
    }
    figures["minutes"] = round((time.perf_counter() - started) / 60, 1)
    for entry in figures["models"]:
        print(
            f"{Path(entry['model']).name}: fixed length int8 {entry['int8']['fixed_length_tokens_per_second']} "
            f"tok/s vs fp32 {entry['fp32']['fixed_length_tokens_per_second']} ({entry['fixed_length_ratio']}x); "
            f"held-out answers {entry['seconds_ratio']}x faster in wall time; EX int8 {entry['int8']['execution_accuracy']} vs fp32 "
            f"{entry['fp32']['execution_accuracy']} on {entry['questions']} ({entry['int8_vs_fp32']['wins']} W / "
            f"{entry['int8_vs_fp32']['losses']} L, p = {entry['int8_vs_fp32']['p_value']}); same SQL "
            f"{entry['same_sql']}/{entry['questions']}"
        )
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
