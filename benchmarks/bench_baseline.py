"""Baseline (`make bench`): the default model's few-shot execution accuracy on the bundled held-out
set, overall and by hardness: the number distillation has to beat. Prints and writes figures."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from services.critic.logic import Critic, PredictionIn
from services.critic.sandbox_pool import SandboxPool
from services.generation.backends import ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.requests import QuestionIn
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/baseline.json"))
    parser.add_argument("--model", default="")
    parser.add_argument("--few-shot-k", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="held-out questions (0 = all 90)")
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    data = ensure_built(args.home / "bundled")
    catalogue = Catalogue.load(data)
    dev = catalogue.examples("dev")
    dev = dev[: args.limit] if args.limit else dev
    backend = TransformersBackend(args.home / "models", ModelSpec(args.model), max_batch_size=8)
    generator = Generator(catalogue, backend, catalogue.examples("seed"), default_k=args.few_shot_k)
    started = time.perf_counter()
    results, _version = generator.generate_sql(
        [QuestionIn(e.id, e.db_id, e.question) for e in dev],
        1,
        sampling=Sampling(temperature=0.0, max_new_tokens=128),
    )
    seconds = time.perf_counter() - started
    critic = Critic(catalogue, SandboxPool(workers=2))
    try:
        report, scores = critic.evaluate(
            [
                PredictionIn(e.id, e.db_id, e.query, r.sql[0] if r.sql else "")
                for e, r in zip(dev, results, strict=True)
            ]
        )
    finally:
        critic.close()
    figures = {
        "model": backend.info().path,
        "few_shot_k": args.few_shot_k,
        "questions": len(dev),
        "execution_accuracy": round(report.execution, 4),
        "by_hardness": {
            k: {"count": v.total, "execution": round(v.execution, 4)} for k, v in report.by_hardness.items()
        },
        "unparseable": sum(1 for r in results if not r.sql),
        "generation_seconds": round(seconds, 1),
    }
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
