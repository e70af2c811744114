"""Schema-constrained decoding (`make bench`): the same model and prompts answering with
`generation.constrain` off, identifiers and full.

Figures, per strength: on the bundled held-out questions (greedy, and with --samples N sampled
answers per question), the share of SQL that executes, how many fail naming a column or table the
database lacks, EX with paired wins/losses against off, generated tokens/s and seconds; grammar build
time per database (bundled and, when present, ../shared/spider-train); and self-instruct pairs over
--pair-dbs databases of ../shared/spider-train: pairs written, the share that execute and return
rows (what the critic can keep), and such pairs per generation minute. Prints figures and writes
them as JSON; asserts nothing about time.

torch is imported inside functions only (the critic's sandbox workers import this module again)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from benchmarks.bench_cpu_generation import TimedBackend
from services.critic.logic import Critic, PredictionIn
from services.critic.sandbox_pool import SandboxPool
from services.generation.backends import ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.requests import QuestionIn
from services.generation.sql_grammar import CONSTRAIN_MODES
from services.generation.sql_grammar_lark import sql_grammar_lark
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.packaged_models import DEFAULT_MODEL
from shared.stats import compare_paired

SPIDER_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "spider-train"
UNKNOWN_NAME = ("no such column", "no such table")


def held_out(
    generator: Generator,
    critic: Critic,
    dev: list,
    timed: TimedBackend,
    mode: str,
    n: int,
    temperature: float,
) -> dict:
    """Answers to every held-out question under one strength: execution, EX per question, speed."""
    sampling = Sampling(temperature=temperature, top_p=0.95 if temperature else 1.0, max_new_tokens=128)
    timed.tokens, timed.seconds = 0, 0.0
    results, _ = generator.generate_sql(
        [QuestionIn(e.id, e.db_id, e.question) for e in dev], n, sampling=sampling, constrain=mode
    )
    sql = [list(r.sql) + [""] * (n - len(r.sql)) for r in results]
    correct: dict[str, bool] = {}
    executes = unknown = answers = 0
    for index in range(n):
        _, scores = critic.evaluate(
            [PredictionIn(e.id, e.db_id, e.query, s[index]) for e, s in zip(dev, sql, strict=True)]
        )
        for example, row, score in zip(dev, sql, scores, strict=True):
            answers += 1
            outcome = critic.execute(example.db_id, row[index]) if row[index] else None
            executes += bool(outcome and outcome.ok)
            unknown += bool(outcome and any(m in outcome.error for m in UNKNOWN_NAME))
            correct[f"{score.id}#{index}"] = score.execution_match
    return {
        "answers": answers,
        "executes": round(executes / answers, 4),
        "not_executing": answers - executes,
        "unknown_name_errors": unknown,
        "execution_accuracy": round(sum(correct.values()) / answers, 4),
        "seconds": round(timed.seconds, 1),
        "generated_tokens": timed.tokens,
        "tokens_per_second": round(timed.tokens / max(timed.seconds, 1e-9), 2),
        "_correct": correct,
    }


def grammar_build_times(catalogues: list[Catalogue], tokenizer_of: TransformersBackend) -> dict:
    """Seconds to write and compile each database's grammar (both strengths), and the one-time
    tokenizer view of the engine."""
    import llguidance

    started = time.perf_counter()
    engine = tokenizer_of._grammar_engine(tokenizer_of._current)
    tokenizer_seconds = time.perf_counter() - started
    times = []
    for catalogue in catalogues:
        for db_id in catalogue.db_ids:
            schema = catalogue.schema(db_id)
            started = time.perf_counter()
            for mode in ("identifiers", "full"):
                sql_grammar_lark.cache_clear()
                text = sql_grammar_lark(schema, mode)
                error = llguidance.LLMatcher.validate_grammar(text, engine.tokenizer)
                if error:
                    raise RuntimeError(f"{db_id} {mode}: {error[:300]}")
                llguidance.LLMatcher(engine.tokenizer, text)
            times.append((time.perf_counter() - started) / 2)
    return {
        "databases": len(times),
        "tokenizer_seconds": round(tokenizer_seconds, 2),
        "median_seconds": round(statistics.median(times), 4),
        "max_seconds": round(max(times), 4),
    }


def self_instruct(
    generator: Generator, critic: Critic, timed: TimedBackend, db_ids: list[str], per_db: int, mode: str
) -> dict:
    timed.tokens, timed.seconds = 0, 0.0
    written = usable = unknown = 0
    for db_id in db_ids:
        for pair in generator.generate_pairs(db_id, per_db, constrain=mode):
            written += 1
            outcome = critic.execute(db_id, pair.sql)
            usable += bool(outcome.ok and outcome.rows)
            unknown += any(m in outcome.error for m in UNKNOWN_NAME)
    minutes = timed.seconds / 60
    return {
        "databases": len(db_ids),
        "pairs": written,
        "execute_with_rows": usable,
        "unknown_name_errors": unknown,
        "generation_minutes": round(minutes, 2),
        "usable_pairs_per_minute": round(usable / max(minutes, 1e-9), 2),
    }


def mixed_catalogue(*catalogues: Catalogue, folder: Path) -> Catalogue:
    """One Spider-format folder linking every database of the given catalogues."""
    for catalogue in catalogues:
        for db_id, path in catalogue.databases.items():
            link = folder / "database" / db_id / f"{db_id}.sqlite"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(Path(path).resolve())
    return Catalogue.load(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/constrain.json"))
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--modes", nargs="+", default=list(CONSTRAIN_MODES), choices=CONSTRAIN_MODES)
    parser.add_argument("--limit", type=int, default=0, help="held-out questions (0 = all 90)")
    parser.add_argument("--samples", type=int, default=0, help="also N sampled answers per question (T=0.7)")
    parser.add_argument(
        "--pair-dbs", type=int, default=16, help="spider-train databases for self-instruct (0 = skip)"
    )
    parser.add_argument("--pairs-per-db", type=int, default=8)
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    catalogue = Catalogue.load(ensure_built(args.home / "bundled"))
    dev = catalogue.examples("dev")
    dev = dev[: args.limit] if args.limit else dev
    seeds = catalogue.examples("seed")
    backend = TransformersBackend(args.home / "models", ModelSpec(args.model))
    timed = TimedBackend(backend)
    spider = Catalogue.load(SPIDER_TRAIN) if SPIDER_TRAIN.is_dir() else None
    started = time.perf_counter()
    figures: dict = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "model": backend.info().path,
        "questions": len(dev),
        "grammar_build": grammar_build_times([c for c in (catalogue, spider) if c], backend),
    }
    critic = Critic(catalogue, SandboxPool(workers=2))
    try:
        generator = Generator(catalogue, timed, seeds)
        arms = [("greedy", 1, 0.0)] + ([("sampled", args.samples, 0.7)] if args.samples else [])
        for arm, n, temperature in arms:
            figures[arm] = {
                mode: held_out(generator, critic, dev, timed, mode, n, temperature) for mode in args.modes
            }
            base = figures[arm].get("off")
            for mode, entry in figures[arm].items():
                correct = entry.pop("_correct")
                if base is not None and mode != "off":
                    paired = compare_paired(
                        correct, base["_correct"] if "_correct" in base else base["correct"]
                    )
                    entry.update(wins=paired.wins, losses=paired.losses, p_value=round(paired.p_value, 3))
                entry["correct"] = correct
        for arm, _, _ in arms:
            for entry in figures[arm].values():
                entry.pop("correct", None)
    finally:
        critic.close()
    if spider is not None and args.pair_dbs:
        # The shots come from the bundled seed questions: one catalogue holds both sets of databases.
        spider = mixed_catalogue(catalogue, spider, folder=args.home / "constrain-mixed")
        spider_critic = Critic(spider, SandboxPool(workers=2))
        try:
            generator = Generator(spider, timed, seeds)
            spider_ids = [d for d in spider.db_ids if d not in catalogue.databases]
            db_ids = spider_ids[:: max(1, len(spider_ids) // args.pair_dbs)][: args.pair_dbs]
            figures["self_instruct"] = {
                mode: self_instruct(generator, spider_critic, timed, db_ids, args.pairs_per_db, mode)
                for mode in args.modes
            }
        finally:
            spider_critic.close()
    figures["minutes"] = round((time.perf_counter() - started) / 60, 1)
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
