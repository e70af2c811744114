"""Answers run on the source, measured (`make bench-on-source`): the bundled held-out databases
loaded into a real PostgreSQL (the pinned pgserver), the default model's greedy answers to the 90
held-out questions written once, then scored twice - run in the SQLite sandbox (EX as everywhere
else) and run on PostgreSQL through `ask --on-source`'s path (sqlglot to PostgreSQL, read-only, a
statement timeout) against the gold's rows, by the same official rule (DISTINCT removed from both,
as the sandbox's EX does). The two should agree within a question or two; each
question where they differ is printed with both SQL texts. Asserts nothing.

    python -m benchmarks.on_source_ex [--model default] [--limit 0] [--gold]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from services.critic.matching import order_matters, results_match
from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import load_config
from shared.schema import open_readonly
from shared.schema import quote_identifier as q
from shared.sources.connection import SourceError, SourceRef
from shared.sources.on_source import run_on_source
from shared.sources.types import comparable_row
from shared.sql import SqlParseError, remove_distinct

MAX_ROWS = 10_000


def _pg_type(sqlite_type: str) -> str:
    """SQLite's type affinity rules, onto PostgreSQL."""
    t = sqlite_type.upper()
    if "INT" in t:
        return "bigint"
    if any(k in t for k in ("REAL", "FLOA", "DOUB", "NUM", "DEC")):
        return "double precision"
    return "text"


def load_into_postgres(catalogue: Catalogue, db_id: str, admin_url: str, server: object) -> str:
    """The SQLite database as a PostgreSQL database of its own; its URL."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {db_id}")
    admin.dispose()
    url = server.get_uri(db_id).replace("postgresql://", "postgresql+psycopg://", 1)
    schema = catalogue.schema(db_id)
    engine = sa.create_engine(url)
    source = open_readonly(catalogue.path(db_id))
    with engine.begin() as connection:
        for table in schema.tables:  # keys are left out: rows load in any order
            columns = ", ".join(f"{q(c.name)} {_pg_type(c.type)}" for c in table.columns)
            connection.exec_driver_sql(f"CREATE TABLE {q(table.name)} ({columns})")
            rows = source.execute(f"SELECT * FROM {q(table.name)}").fetchall()
            if rows:
                marks = ", ".join("%s" for _ in table.columns)
                connection.exec_driver_sql(
                    f"INSERT INTO {q(table.name)} VALUES ({marks})", [tuple(r) for r in rows]
                )
    source.close()
    engine.dispose()
    return url


def _official(sql: str) -> str:
    """The official Spider EX rule the sandbox's score applies: DISTINCT removed from gold and answer
    alike (services/critic/execution.py for_match), so both columns score the same way."""
    try:
        return remove_distinct(sql)
    except SqlParseError:
        return sql


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default", help="what `sqldistill eval --model` takes")
    parser.add_argument(
        "--home", type=Path, default=Path(".bench/home"), help="where packaged models assemble"
    )
    parser.add_argument("--limit", type=int, default=0, help="first N held-out questions (0 = all)")
    parser.add_argument("--gold", action="store_true", help="score the gold SQL itself (no model)")
    parser.add_argument("--out", type=Path, default=Path(".bench/on_source_ex.json"))
    args = parser.parse_args()
    import pgserver

    from offline.evaluation import evaluate, open_critic, predictions_for
    from offline.models import resolve_eval_model
    from offline.prediction import answer_examples, generator_writer, load_generator
    from shared.fewshot import few_shot_pool

    catalogue = Catalogue.load(ensure_built(bundled_dataset_path(load_config())))
    examples = catalogue.examples("dev")[: args.limit or None]
    started = time.monotonic()
    if args.gold:  # the transpiler alone: the gold SQL itself, run on both
        answers = [e.query for e in examples]
    else:
        model = resolve_eval_model(args.model)
        pool = few_shot_pool(catalogue, exclude="dev")
        generator = load_generator(catalogue, model, args.home / "models", pool)
        answers = [a.sql for a in answer_examples(examples, generator_writer(generator, model.few_shot_k))]
    minutes = (time.monotonic() - started) / 60
    critic = open_critic(catalogue)
    try:
        sandbox = {
            s.id: s.execution_match
            for s in evaluate(critic, predictions_for(examples, answers)).greedy.scores
        }
    finally:
        critic.close()
    per_question, differing = [], []
    with tempfile.TemporaryDirectory() as folder:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        try:
            admin = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
            urls = {
                d: load_into_postgres(catalogue, d, admin, server)
                for d in sorted({e.db_id for e in examples})
            }
            for index, (e, sql) in enumerate(zip(examples, answers, strict=True)):
                gold_connection = open_readonly(catalogue.path(e.db_id))
                gold = gold_connection.execute(_official(e.query)).fetchall()
                gold_connection.close()
                right, ran, why = False, "", ""
                if sql:
                    try:
                        result = run_on_source(SourceRef(e.db_id, urls[e.db_id]), _official(sql), MAX_ROWS)
                        ran = result.sql
                        right = results_match(
                            [comparable_row(r) for r in gold],
                            [comparable_row(r) for r in result.rows],
                            order_matters(e.query),
                        )
                    except SourceError as exc:
                        why = str(exc)
                key = e.id or str(index)
                per_question.append({"id": key, "sandbox": sandbox[key], "source": right})
                if right != sandbox[key]:
                    differing.append(
                        {
                            "question": e.question,
                            "sqlite": sql,
                            "postgres": ran,
                            "error": why,
                            "sandbox": sandbox[key],
                        }
                    )
        finally:
            server.cleanup()
    n = len(per_question)
    figures = {
        "questions": n,
        "answer_minutes": round(minutes, 1),
        "ex_sandbox": round(sum(p["sandbox"] for p in per_question) / n, 4),
        "ex_on_source": round(sum(p["source"] for p in per_question) / n, 4),
        "questions_that_differ": len(differing),
    }
    print(json.dumps(figures))
    for d in differing:
        print(json.dumps(d))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"figures": figures, "differing": differing}, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
