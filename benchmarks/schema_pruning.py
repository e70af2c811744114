"""Schemas larger than a prompt, measured (`make bench-pruning`): one merged SQLite database of the
ten bundled databases and N databases of ../shared/spider-train (each table renamed `<db>__<table>`,
keys kept, up to 200 rows per table), so the schema holds hundreds of tables; each of the 300
bundled questions keeps its meaning (its gold SQL rewritten to the renamed tables). Per token budget:
the prompt schema's estimated tokens, the share of questions whose prompt keeps every table their
gold SQL reads, the mean share of those tables kept, and the tables shown. The bundled databases on
their own fit any budget here: their prompts are unchanged. With --ex, the default model's EX on the
90 held-out bundled questions with the whole schema and with the schema pruned to --ex-budget
(databases small enough for both: a forced budget below their size), greedy, paired. Prints figures;
asserts nothing.

    python -m benchmarks.schema_pruning [--spider ../shared/spider-train] [--databases 60] [--ex]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from sqlglot import exp

from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT, load_config
from shared.schema import introspect, open_readonly
from shared.schema import quote_identifier as q
from shared.schema_pruning import estimated_tokens, prune_schema
from shared.sql import parse

ROWS_PER_TABLE = 200


def merge(databases: list[tuple[str, Path]], out: Path) -> None:
    """One SQLite file holding every table of every database as `<db>__<table>`, keys kept."""
    target = sqlite3.connect(out)
    for db_id, path in databases:
        schema = introspect(path, db_id, samples_per_column=0)
        source = open_readonly(path)
        for table in schema.tables:
            parts = [f"{q(c.name)} {c.type or 'TEXT'}" for c in table.columns]
            if table.primary_key:
                parts.append(f"PRIMARY KEY ({', '.join(q(c) for c in table.primary_key)})")
            for fk in table.foreign_keys:
                parts.append(
                    f"FOREIGN KEY ({q(fk.column)}) REFERENCES {q(f'{db_id}__{fk.ref_table}')} ({q(fk.ref_column)})"
                )
            name = q(f"{db_id}__{table.name}")
            target.execute(f"CREATE TABLE {name} ({', '.join(parts)})")
            rows = source.execute(f"SELECT * FROM {q(table.name)} LIMIT {ROWS_PER_TABLE}").fetchall()
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                target.executemany(f"INSERT OR IGNORE INTO {name} VALUES ({marks})", rows)
        source.close()
    target.commit()
    target.close()


def renamed_tables(db_id: str, sql: str, tables: set[str]) -> set[str]:
    """The merged names of the tables a gold SQL reads (CTE names are not tables)."""
    tree = parse(sql)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)} if tree is not None else set()
    found = {t.name.lower() for t in tree.find_all(exp.Table)} if tree is not None else set()
    return {f"{db_id}__{name}" for name in found - ctes if name in tables}


def ex_with_and_without(bundled: Catalogue, args: argparse.Namespace) -> dict:
    """EX on the held-out split with the whole schema and with it pruned to args.ex_budget."""
    from offline.evaluation import evaluate, open_critic, predictions_for
    from offline.models import resolve_eval_model
    from offline.prediction import answer_examples, generator_writer, load_generator
    from shared.fewshot import few_shot_pool
    from shared.stats import compare_paired

    examples = bundled.examples("dev")
    model = resolve_eval_model(args.model)
    pool = few_shot_pool(bundled, exclude="dev")
    critic = open_critic(bundled)
    arms, per_question = {}, {}
    try:
        for name, budget in (("whole", 0), ("pruned", args.ex_budget)):
            generator = load_generator(bundled, model, args.home / "models", pool, schema_budget=budget)
            started = time.monotonic()
            answers = answer_examples(examples, generator_writer(generator, model.few_shot_k))
            evaluation = evaluate(critic, predictions_for(examples, [a.sql for a in answers]))
            per_question[name] = {s.id: s.execution_match for s in evaluation.greedy.scores}
            arms[name] = {
                "budget": budget,
                "ex": round(evaluation.greedy.report.execution, 4),
                "minutes": round((time.monotonic() - started) / 60, 1),
            }
            print(f"EX, {name} schema: {json.dumps(arms[name])}", flush=True)
    finally:
        critic.close()
    paired = compare_paired(per_question["pruned"], per_question["whole"])
    arms["pruned_vs_whole"] = {"wins": paired.wins, "losses": paired.losses, "p": round(paired.p_value, 4)}
    print(f"pruned vs whole: {json.dumps(arms['pruned_vs_whole'])}")
    return arms


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spider", type=Path, default=REPO_ROOT.parent / "shared" / "spider-train")
    parser.add_argument("--databases", type=int, default=60, help="spider-train databases merged in")
    parser.add_argument("--budgets", default="500,1000,2000,4000,6000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(".bench/schema_pruning.json"))
    parser.add_argument("--ex", action="store_true", help="also EX, whole vs pruned schema (model runs)")
    parser.add_argument("--ex-budget", type=int, default=200, help="the forced budget of the EX arm")
    parser.add_argument("--model", default="default", help="what `sqldistill eval --model` takes")
    parser.add_argument(
        "--home", type=Path, default=Path(".bench/home"), help="where packaged models assemble"
    )
    args = parser.parse_args()
    bundled = Catalogue.load(ensure_built(bundled_dataset_path(load_config())))
    spider = Catalogue.load(args.spider)
    drawn = sorted(random.Random(args.seed).sample(spider.db_ids, min(args.databases, len(spider.db_ids))))
    databases = [(d, bundled.path(d)) for d in bundled.db_ids] + [
        (d, spider.path(d)) for d in drawn if d not in bundled.databases
    ]
    with tempfile.TemporaryDirectory() as folder:
        merged_path = Path(folder) / "merged.sqlite"
        merge(databases, merged_path)
        merged = introspect(merged_path, "merged")
    full_tokens = estimated_tokens(merged.schema_text(2))
    print(
        f"merged: {len(databases)} databases, {len(merged.tables)} tables, {full_tokens} estimated tokens in full"
    )
    questions = [e for split in ("seed", "train", "dev") for e in bundled.examples(split)]
    table_names = {d: {t.name.lower() for t in bundled.schema(d).tables} for d in bundled.db_ids}
    results = []
    for budget in (int(b) for b in args.budgets.split(",")):
        kept_all, shares, shown, tokens = 0, [], [], []
        for e in questions:
            needed = renamed_tables(e.db_id, e.query, table_names[e.db_id])
            pruned = prune_schema(merged, e.question, budget)
            names = {t.name.lower() for t in pruned.tables}
            kept_all += needed <= names
            shares.append(len(needed & names) / len(needed) if needed else 1.0)
            shown.append(len(names))
            tokens.append(estimated_tokens(pruned.schema_text(2)))
        row = {
            "budget": budget,
            "questions": len(questions),
            "all_tables_kept": round(kept_all / len(questions), 4),
            "mean_table_recall": round(statistics.mean(shares), 4),
            "mean_tables_shown": round(statistics.mean(shown), 1),
            "mean_tokens": round(statistics.mean(tokens)),
            "max_tokens": max(tokens),
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    document = {
        "databases": len(databases),
        "tables": len(merged.tables),
        "full_tokens": full_tokens,
        "budgets": results,
    }
    if args.ex:
        document["ex"] = ex_with_and_without(bundled, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
