"""Few-shot selection from a seed pool: other databases first (no leakage), similar hardness, and
deterministic for a given seed and request key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlglot import exp

from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.prompts import Repair, Shot, review_prompt, schema_for_prompt, sql_prompt
from shared.schema import DatabaseSchema
from shared.schema_pruning import prune_schema
from shared.sql import HARDNESS_LEVELS, SqlParseError, hardness_of, parse


def _rank(seed: int, key: str, example: Example) -> int:
    return int.from_bytes(
        hashlib.sha256(f"{seed}|{key}|{example.id}|{example.question}".encode()).digest()[:8], "big"
    )


def select_examples(
    pool: Sequence[Example], target_db: str, k: int, hardness: str = "", seed: int = 0, key: str = ""
) -> list[Example]:
    """k examples, none from target_db, closest in hardness first; ties broken by a seeded hash,
    and at most one example per database while other databases remain."""
    if k <= 0:
        return []
    wanted = HARDNESS_LEVELS.index(hardness) if hardness in HARDNESS_LEVELS else None
    candidates = [e for e in pool if e.db_id != target_db]

    def distance(e: Example) -> int:
        if wanted is None:
            return 0
        level = e.hardness or hardness_of(e.query)
        return abs(HARDNESS_LEVELS.index(level) - wanted)

    ordered = sorted(candidates, key=lambda e: (distance(e), _rank(seed, key, e)))
    chosen: list[Example] = []
    used_dbs: set[str] = set()
    for example in ordered:  # first pass: one per database
        if len(chosen) == k:
            break
        if example.db_id not in used_dbs:
            chosen.append(example)
            used_dbs.add(example.db_id)
    for example in ordered:  # then fill up
        if len(chosen) == k:
            break
        if example not in chosen:
            chosen.append(example)
    return chosen


def _tables_used(sql: str) -> set[str]:
    try:
        return {t.name.lower() for t in parse(sql).find_all(exp.Table)}
    except SqlParseError:
        return set()


def shots_for(catalogue: Catalogue, examples: Sequence[Example]) -> list[Shot]:
    """Few-shot examples with their own schema text, cut to the tables their SQL reads and without
    sample values: prompt length is what generation on a CPU pays for."""
    shots = []
    for e in examples:
        schema = catalogue.schema(e.db_id)
        used = _tables_used(e.query)
        tables = tuple(t for t in schema.tables if t.name.lower() in used) or schema.tables
        cut = DatabaseSchema(schema.db_id, schema.path, tables)
        shots.append(
            Shot(
                e.db_id,
                schema_for_prompt(cut, sample_values=0),
                e.question,
                e.query,
                e.hardness or hardness_of(e.query),
                e.evidence,
            )
        )
    return shots


def few_shot_pool(catalogue: Catalogue, exclude: str = "") -> list[Example]:
    """Where examples come from: the dataset's seed split, else its train split (never the split
    being evaluated). One rule, so a training row and the inference prompt for the same question
    are built from the same pool."""
    for split in ("seed", "train"):
        if split in catalogue.split_files and split != exclude:
            return catalogue.examples(split)
    return []


def _shown(
    catalogue: Catalogue,
    pool: Sequence[Example],
    db_id: str,
    question: str,
    k: int,
    schema_budget: int,
    keep_tables: Sequence[str] = (),
    example_set: int = 0,
) -> tuple[list[Shot], str]:
    """What a question's prompt shows: its examples (chosen per database; `example_set` > 0 draws
    another set for the same database) and its schema text (pruned to the question's tables past
    `schema_budget`, `keep_tables` first). The SQL prompt and the review prompt share it."""
    shots = shots_for(catalogue, select_examples(pool, db_id, k, key=example_key(db_id, example_set)))
    schema = prune_schema(catalogue.schema(db_id), question, schema_budget, keep=keep_tables)
    return shots, schema_for_prompt(schema)


def example_key(db_id: str, example_set: int = 0) -> str:
    """The selection key of a database's example set: set 0 is the one every prompt on the database
    shows (training rows, greedy answers, reviews); sets 1, 2, ... are drawn for sampling alone, so
    that a question's samples do not all copy the habits of the same two examples."""
    return db_id if example_set == 0 else f"{db_id}#{example_set}"


def question_prompt(
    catalogue: Catalogue,
    pool: Sequence[Example],
    db_id: str,
    question: str,
    k: int,
    evidence: str = "",
    repair: Repair | None = None,
    schema_budget: int = defaults.SCHEMA_TOKEN_BUDGET,
    keep_tables: Sequence[str] = (),
    example_set: int = 0,
) -> str:
    """The text-to-SQL prompt for one question, byte for byte what inference sends and what training
    rows hold (unless a row's schema had to be pruned to fit the trainer: training_data.training_prompt). Examples are chosen per database (keyed by db_id, not by the question or the
    sampling seed): prompts on one database share everything up to the question, which the backend
    prefills once per batch. With `repair`, the same prompt shows a failing attempt and its error.
    A schema past `schema_budget` estimated tokens shows the question's tables (schema_pruning):
    its prompts then share only the examples, since the schema shown depends on the question
    (`keep_tables` first: a training row's prompt shows the tables its SQL reads). `example_set` > 0
    shows another set of examples (sampling only: `example_key`)."""
    shots, schema_text = _shown(catalogue, pool, db_id, question, k, schema_budget, keep_tables, example_set)
    return sql_prompt(db_id, schema_text, question, shots, evidence, repair)


def question_review_prompt(
    catalogue: Catalogue,
    pool: Sequence[Example],
    db_id: str,
    question: str,
    k: int,
    schema_budget: int = defaults.SCHEMA_TOKEN_BUDGET,
) -> str:
    """The head of a review of SQL written for `question` (prompts.review_prompt): the same examples
    and schema its SQL prompt shows (example set 0: every SQL of a question is scored on one
    prompt, whichever set's prompt wrote it)."""
    shots, schema_text = _shown(catalogue, pool, db_id, question, k, schema_budget)
    return review_prompt(db_id, schema_text, shots)
