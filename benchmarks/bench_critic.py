"""Critic benchmarks (`make bench`): judging throughput and EX speed against a serial reference.

Prints figures and writes them as JSON; asserts nothing about time (these machines are noisy).
1. Judge throughput: simple labelled candidates (parse, execute, EX against gold) per second.
2. EX over a Spider-dev-sized prediction set (1034 pairs): this critic (worker pool, cached gold
   results, pruned column matching) vs a serial reference of the official semantics (a fresh
   connection per query, gold re-run per prediction, the official result_eq), side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from services.critic.logic import CandidateIn, Critic, JudgeSettings, PredictionIn
from services.critic.matching import order_matters
from services.critic.neighbours import neighbours
from services.critic.sandbox_pool import SandboxPool
from shared.catalogue import Catalogue
from shared.sql import hardness_of, remove_distinct
from testbed.databases import make_concert_db
from testbed.reference_evaluator import reference_results_match

GOLD = [
    "SELECT count(*) FROM singer",
    "SELECT name FROM singer WHERE age > 40",
    "SELECT name, country FROM singer WHERE country = 'France'",
    "SELECT country, count(*) FROM singer GROUP BY country",
    "SELECT name, age FROM singer ORDER BY age DESC LIMIT 3",
    "SELECT avg(capacity), max(capacity) FROM stadium",
    "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)",
    "SELECT T2.name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id GROUP BY T2.name",
    "SELECT concert_name, theme FROM concert WHERE year >= 2015",
    "SELECT DISTINCT T1.country FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.singer_id = T2.singer_id",
    "SELECT theme FROM concert GROUP BY theme ORDER BY count(*) DESC LIMIT 1",
    "SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer)",
]


def build_databases(root: Path, count: int) -> Catalogue:
    for i in range(count):
        make_concert_db(root / "database" / f"concert_{i}" / f"concert_{i}.sqlite", seed=i)
    return Catalogue.load(root)


def prediction_set(catalogue: Catalogue, size: int, seed: int = 0) -> list[PredictionIn]:
    """Gold queries with predictions that are right (reformatted) or one-edit wrong, like a model's."""
    rng = random.Random(seed)
    schema = catalogue.schema(catalogue.db_ids[0])
    variants = {g: neighbours(g, schema) for g in GOLD}
    out = []
    for i in range(size):
        gold = rng.choice(GOLD)
        db_id = rng.choice(catalogue.db_ids)
        pred = gold.lower() if rng.random() < 0.5 or not variants[gold] else rng.choice(variants[gold])
        out.append(PredictionIn(str(i), db_id, gold, pred))
    return out


def serial_reference(catalogue: Catalogue, predictions: list[PredictionIn]) -> list[bool]:
    """The official evaluator's way: connect, run gold, run prediction, result_eq - one at a time."""
    verdicts = []
    for p in predictions:
        path = catalogue.path(p.db_id)

        def run(sql: str, path: Path = path) -> list[tuple] | None:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            connection.text_factory = lambda b: b.decode(errors="ignore")
            try:
                return connection.execute(sql).fetchall()
            except sqlite3.Error:
                return None
            finally:
                connection.close()

        gold, pred = run(remove_distinct(p.gold_sql)), run(remove_distinct(p.predicted_sql))
        verdicts.append(
            pred is not None
            and gold is not None
            and reference_results_match(gold, pred, order_matters(p.gold_sql))
        )
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/critic.json"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--candidates", type=int, default=3000)
    parser.add_argument("--predictions", type=int, default=1034)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sqldistill-bench-"))
    catalogue = build_databases(root, 10)
    figures: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "workers": args.workers,
    }
    critic = Critic(catalogue, SandboxPool(workers=args.workers))
    try:
        # warm-up: spawn workers, open connections
        list(critic.judge([CandidateIn("w", catalogue.db_ids[0], "q", "SELECT 1")]))

        rng = random.Random(1)
        simple = [
            CandidateIn(str(i), rng.choice(catalogue.db_ids), f"question {i}", sql, gold)
            for i in range(args.candidates)
            for gold in [rng.choice(GOLD[:6])]
            for sql in [gold if rng.random() < 0.6 else gold.replace("40", "41").replace("3", "4")]
        ]
        started = time.perf_counter()
        verdicts = list(critic.judge(simple, JudgeSettings(dedupe=False)))
        elapsed = time.perf_counter() - started
        figures["judge_candidates"] = len(simple)
        figures["judge_seconds"] = round(elapsed, 3)
        figures["judge_candidates_per_second"] = round(len(simple) / elapsed, 1)
        figures["judge_kept"] = sum(v.kept for v in verdicts)

        predictions = prediction_set(catalogue, args.predictions)
        started = time.perf_counter()
        reference = serial_reference(catalogue, predictions)
        reference_seconds = time.perf_counter() - started
        critic._gold_results.clear()  # no head start from the judge run or the reference
        remove_distinct.cache_clear()
        hardness_of.cache_clear()
        started = time.perf_counter()
        report, scores = critic.evaluate(predictions)
        ours_seconds = time.perf_counter() - started
        disagreements = sum(s.execution_match != r for s, r in zip(scores, reference, strict=True))
        figures.update(
            ex_predictions=len(predictions),
            ex_reference_serial_seconds=round(reference_seconds, 3),
            ex_critic_seconds=round(ours_seconds, 3),
            ex_speedup=round(reference_seconds / ours_seconds, 2),
            ex_accuracy=round(report.execution, 4),
            ex_reference_accuracy=round(sum(reference) / len(reference), 4),
            ex_disagreements=disagreements,
        )
    finally:
        critic.close()
    for key, value in figures.items():
        print(f"{key:32s} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
