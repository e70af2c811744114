"""Label rules tried again on a question-only run's stored samples, with no model: each asked
question's ballot (a candidate's SQL and what it was voted with: the samples, and repairs where the
run repaired) is executed again on its database, grouped by result and labelled by the strict majority; labels are scored by the withheld
gold of the run's bundled dataset (read here for the report only). Arms: the samples as written,
and the same after each failing sample's misattributed qualified columns are moved to the one table
of their scope that has them (`T2.score` where `T2` lacks `score` and only `T1` has it: sqlglot's
scopes and the database's own columns, no model). Also reports why samples fail and, where no
majority forms, whether a sample answered right and where its group ranks. Prints a table and
writes JSON; asserts nothing.

    python -m benchmarks.stored_labels --home HOME [--run RUN_ID] [--round 1] [--out .bench/stored_labels.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlglot
from sqlalchemy import select
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from benchmarks.run_figures import QUERY_SECONDS
from services.controller.enums import Mode
from services.critic.matching import order_matters, results_match
from shared.catalogue import Catalogue
from shared.schema import open_readonly
from shared.store import Candidate, Run, Store


def requalify(sql: str, columns: dict[str, set[str]]) -> str | None:
    """The SQL with each qualified column its table lacks moved to the one table of the same scope
    that has it; None when nothing moved (no such column, an ambiguous owner, or SQL that does not
    parse). `columns`: lower-cased table name -> its lower-cased column names."""
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
        scopes = traverse_scope(tree)
    except (SqlglotError, ValueError):
        return None
    moved = False
    for scope in scopes:
        tables = {
            alias: source.name.lower()
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table)
        }
        for column in scope.columns:
            if column.table not in tables or column.name.lower() in columns.get(tables[column.table], set()):
                continue
            owners = [
                alias for alias, table in tables.items() if column.name.lower() in columns.get(table, set())
            ]
            if len(owners) == 1:
                column.set("table", exp.to_identifier(owners[0]))
                moved = True
    return tree.sql(dialect="sqlite") if moved else None


def _execute(path: Path, sql: str) -> tuple[list[tuple], str]:
    """(rows, error): the error's kind ("no such column", "syntax error", ...) when it fails."""
    connection = open_readonly(path)
    started = time.monotonic()
    connection.set_progress_handler(lambda: int(time.monotonic() - started > QUERY_SECONDS), 10_000)
    try:
        return connection.execute(sql).fetchall(), ""
    except sqlite3.Error as error:
        message = str(error)
        return [], "syntax error" if "syntax error" in message else re.sub(r":.*", "", message) or type(
            error
        ).__name__
    finally:
        connection.close()


def stored_samples(store_path: Path, round_number: int, run_id: str = "") -> dict[tuple[str, str], list[str]]:
    """(db_id, question) -> the question's ballot as voted: a stored candidate's SQL and the others
    it was voted with (resampled_sql), in one run (the store's only one when run_id is empty)."""
    store = Store.open(f"sqlite:///{Path(store_path).resolve()}", migrate=False)  # read, never migrated
    try:
        with store.session() as s:
            runs = list(s.scalars(select(Run.id).order_by(Run.created_at)))
            if not run_id and len(runs) != 1:
                raise SystemExit(
                    f"{store_path} holds {len(runs)} runs ({', '.join(runs)}): name one with --run"
                )
            rows = s.execute(
                select(Candidate.db_id, Candidate.question, Candidate.sql, Candidate.resampled_sql)
                .where(
                    Candidate.run_id == (run_id or runs[0]),
                    Candidate.round == round_number,
                    Candidate.source == Mode.UNLABELLED,
                )
                .order_by(Candidate.id)
            ).all()
    finally:
        store.close()
    samples: dict[tuple[str, str], list[str]] = {}
    for db_id, question, sql, resampled in rows:
        samples.setdefault((db_id, question), [sql, *resampled])
    return samples


def _label(results: list[tuple[list[tuple], str]], right: list[bool]) -> dict[str, Any]:
    """The strict majority of all samples over non-empty results; whether a right group is among the
    largest (ties included) when none has a majority."""
    keys = [tuple(sorted(map(repr, rows))) if not error and rows else None for rows, error in results]
    groups = Counter(key for key in keys if key is not None).most_common()
    right_keys = {key for key, ok in zip(keys, right, strict=True) if ok and key is not None}
    labelled = bool(groups) and groups[0][1] * 2 > len(keys)
    return {
        "labelled": labelled,
        "right": labelled and groups[0][0] in right_keys,
        "any_right": any(right),
        "right_largest": any(key in right_keys for key, size in groups if size == groups[0][1]),
    }


def measure(home: Path, round_number: int, run_id: str = "") -> dict[str, Any]:
    catalogue = Catalogue.load(home / "bundled")
    gold = {
        (e["db_id"], e["question"]): e["query"]
        for e in json.loads((home / "bundled" / "train.json").read_text())
    }
    errors: Counter[str] = Counter()
    moves = Counter()
    questions = []
    for (db_id, question), samples in stored_samples(home / "store.db", round_number, run_id).items():
        path = catalogue.path(db_id)
        columns = {
            t.name.lower(): {c.name.lower() for c in t.columns} for t in catalogue.schema(db_id).tables
        }
        gold_sql = gold[(db_id, question)]
        gold_rows, _ = _execute(path, gold_sql)
        arms: dict[str, list[tuple[list[tuple], str]]] = {"as written": [], "requalified": []}
        for sql in samples:
            result = _execute(path, sql)
            arms["as written"].append(result)
            if result[1]:
                errors[result[1]] += 1
                fixed = requalify(sql, columns)
                if fixed is not None:
                    moves["rewritten"] += 1
                    result = _execute(path, fixed)
                    moves["then execute"] += not result[1]
                    moves["then right"] += not result[1] and results_match(
                        gold_rows, result[0], order_matters(gold_sql)
                    )
            arms["requalified"].append(result)
        entry = {"db_id": db_id, "question": question, "samples": len(samples)}
        for arm, results in arms.items():
            right = [not e and results_match(gold_rows, rows, order_matters(gold_sql)) for rows, e in results]
            entry[arm] = _label(results, right)
        questions.append(entry)
    return {"errors": dict(errors), "requalified": dict(moves), "questions": questions}


def summary(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for arm in ("as written", "requalified"):
        labels = [q[arm] for q in figures["questions"]]
        labelled = sum(q["labelled"] for q in labels)
        right = sum(q["right"] for q in labels)
        unlabelled = [q for q in labels if not q["labelled"]]
        rows.append(
            {
                "arm": arm,
                "questions": len(labels),
                "labelled": labelled,
                "right": right,
                "precision": round(right / labelled, 3) if labelled else 0.0,
                "no majority, a right sample": sum(q["any_right"] for q in unlabelled),
                "no majority, a right group largest": sum(q["right_largest"] for q in unlabelled),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a question-only bench run's home")
    parser.add_argument("--run", default="", help="the run, when the store holds several")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(".bench/stored_labels.json"))
    args = parser.parse_args()
    figures = measure(args.home, args.round, args.run)
    rows = summary(figures)
    samples = sum(q["samples"] for q in figures["questions"])
    print(
        f"{args.home} round {args.round}: {samples} samples, {sum(figures['errors'].values())} fail: {figures['errors']}"
    )
    print(f"requalified: {figures['requalified']}")
    for row in rows:
        print("  ".join(f"{key} {value}" for key, value in row.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"home": str(args.home), "round": args.round, "summary": rows, **figures}, indent=1)
    )


if __name__ == "__main__":
    main()
