"""The one prompt builder inference and training share: the text a model is trained on is exactly
the text it is later asked to complete.

Two tasks:
- question -> SQL: few-shot blocks (schema, question, SQL), then the target schema and question,
  ending at "-- SQL:" so the completion is " <sql>;".
- self-instruct: few-shot blocks with a complexity bucket, then the target schema and a bucket,
  ending at "-- Question:" so the completion is " <question>\n-- SQL: <sql>;".
Few-shot schemas are shown without sample values (shorter prompts); the target schema with them.

A repair prompt is the question -> SQL prompt whose target block also shows SQL written for the
question that failed to run and the database's error for it (REPAIR_TEMPLATE); its completion is
the SQL again, so a repaired SQL trains on the plain question -> SQL prompt like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from shared.schema import DatabaseSchema
from shared.sql import parse

HARDNESS_DESCRIPTIONS = {
    "easy": "one table, at most one condition, no grouping",
    "medium": "a join, or GROUP BY, or ORDER BY with LIMIT, or two conditions",
    "hard": "a nested subquery, INTERSECT / EXCEPT / UNION, or a three-table join",
    "extra": "several joins with GROUP BY, HAVING or ORDER BY ... LIMIT, or set operations over joins",
}
SQL_TASK = "-- Translate each question into one SQLite query over the schema above it."
PAIR_TASK = "-- For each database, write a new question and the SQLite query that answers it, at the complexity asked."
SQL_MARK = "-- SQL:"
QUESTION_MARK = "-- Question:"
COMPLEXITY_MARK = "-- Complexity:"
TABLES_MARK = "-- Tables:"
EVIDENCE_MARK = "-- Evidence:"  # BIRD's external knowledge, after the question it explains
FAILED_MARK = "-- Failed SQL:"  # a repair prompt's failing attempt, after the question
ERROR_MARK = "-- Error:"  # ... and the database's error for it
MAX_ERROR_CHARS = 300  # an error longer than this is cut: SQLite's messages are one line
STOP_SEQUENCES = ("\n\n", "\n-- Question:", "\n-- Database:")
# Names the text layout of sql_prompt / sql_completion; a version is always asked with the template and
# number of shots it was trained on (recorded in its manifest). Change it when the layout changes.
SQL_TEMPLATE = "sql-v1"
# Names the layout of a repair prompt (sql_prompt with `repair`); recorded in a version's manifest
# beside SQL_TEMPLATE. Change it when that layout changes.
REPAIR_TEMPLATE = "repair-v1"
# A review asks the model the other way round: how likely is the question, given the SQL? SQL that
# answers another question (a LIMIT 1 on a list question, ids asked for names) explains the question
# worse. Layout: few-shot blocks (schema, SQL, question), then the target schema and SQL, ending at
# "-- Question:". Change the name when the layout changes.
REVIEW_TASK = "-- For each SQLite query over the schema above it, write the question it answers."
REVIEW_TEMPLATE = "review-v1"


@dataclass(frozen=True)
class Repair:
    """SQL written for a question that failed to run, and the database's error for it."""

    failed_sql: str
    error: str


@dataclass(frozen=True)
class Shot:
    """One few-shot example: a question with its SQL on its own database."""

    db_id: str
    schema_text: str
    question: str
    sql: str
    hardness: str = ""
    evidence: str = ""


def clean_sql(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").split())


def _database_block(db_id: str, schema_text: str) -> str:
    return f"-- Database: {db_id}\n{schema_text}\n"


def schema_for_prompt(schema: DatabaseSchema, sample_values: int = 2) -> str:
    return schema.schema_text(sample_values=sample_values)


def _question_lines(question: str, evidence: str) -> str:
    """The question, and its evidence on a line of its own when it has one (a question without
    evidence is byte for byte what it was before evidence existed)."""
    evidence = " ".join(evidence.split())
    return f"{QUESTION_MARK} {question.strip()}\n" + (f"{EVIDENCE_MARK} {evidence}\n" if evidence else "")


def _repair_lines(repair: Repair | None) -> str:
    if repair is None:
        return ""
    error = " ".join(repair.error.split())[:MAX_ERROR_CHARS]
    return f"{FAILED_MARK} {clean_sql(repair.failed_sql)};\n{ERROR_MARK} {error}\n"


def sql_prompt(
    db_id: str,
    schema_text: str,
    question: str,
    shots: list[Shot] = (),
    evidence: str = "",
    repair: Repair | None = None,
) -> str:
    """Prompt for question -> SQL; the model completes it with ' <sql>;'. With `repair`, the
    target block shows the failing attempt and its error before the SQL mark (REPAIR_TEMPLATE)."""
    parts = [SQL_TASK, ""]
    for shot in shots:
        parts.append(
            _database_block(shot.db_id, shot.schema_text)
            + _question_lines(shot.question, shot.evidence)
            + f"{SQL_MARK} {clean_sql(shot.sql)};\n"
        )
    parts.append(
        _database_block(db_id, schema_text)
        + _question_lines(question, evidence)
        + _repair_lines(repair)
        + SQL_MARK
    )
    return "\n".join(parts)


def review_prompt(db_id: str, schema_text: str, shots: list[Shot] = ()) -> str:
    """The shared head of a review: few-shot blocks, then the target schema, ending at the SQL mark;
    review_context(sql) and review_completion(question) follow it."""
    parts = [REVIEW_TASK, ""]
    for shot in shots:
        parts.append(
            _database_block(shot.db_id, shot.schema_text)
            + f"{SQL_MARK} {clean_sql(shot.sql)};\n"
            + _question_lines(shot.question, shot.evidence)
        )
    parts.append(_database_block(db_id, schema_text) + SQL_MARK)
    return "\n".join(parts)


def review_context(sql: str) -> str:
    return f" {clean_sql(sql)};\n{QUESTION_MARK}"


def review_completion(question: str) -> str:
    return f" {question.strip()}\n"


def sql_completion(sql: str) -> str:
    """The target text after sql_prompt (what training puts loss on)."""
    return f" {clean_sql(sql)};\n"


def pair_prompt(
    db_id: str, schema_text: str, hardness: str, shots: list[Shot] = (), focus: tuple[str, ...] = ()
) -> str:
    """Prompt for self-instruct; the model completes it with ' <question>\\n-- SQL: <sql>;'.

    With a focus (tables, or a join path), every block names the tables its question is about (the
    shots', read from their SQL), so the model learns to write about the tables it is given."""
    if hardness and hardness not in HARDNESS_DESCRIPTIONS:
        raise ValueError(f"unknown hardness {hardness!r}; expected one of {', '.join(HARDNESS_DESCRIPTIONS)}")
    parts = [PAIR_TASK, ""]
    for shot in shots:
        level = shot.hardness or "medium"
        tables = _tables_line(tables_of(shot.sql)) if focus else ""
        parts.append(
            _database_block(shot.db_id, shot.schema_text)
            + f"{COMPLEXITY_MARK} {level} ({HARDNESS_DESCRIPTIONS[level]})\n{tables}"
            + f"{QUESTION_MARK} {shot.question.strip()}\n{SQL_MARK} {clean_sql(shot.sql)};\n"
        )
    level = hardness or "medium"
    parts.append(
        _database_block(db_id, schema_text)
        + f"{COMPLEXITY_MARK} {level} ({HARDNESS_DESCRIPTIONS[level]})\n{_tables_line(focus)}{QUESTION_MARK}"
    )
    return "\n".join(parts)


def _tables_line(tables: tuple[str, ...]) -> str:
    return f"{TABLES_MARK} {', '.join(tables)}\n" if tables else ""


def tables_of(sql: str) -> tuple[str, ...]:
    """The tables a query reads, each once (empty when it does not parse)."""
    try:
        tree = parse(sql)
    except Exception:  # noqa: BLE001 - a shot's SQL that defeats the parser just shows no tables
        return ()
    return tuple(dict.fromkeys(t.name for t in tree.find_all(exp.Table) if t.name))


def pair_completion(question: str, sql: str) -> str:
    return f" {question.strip()}\n{SQL_MARK} {clean_sql(sql)};\n"
