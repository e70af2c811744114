"""The question log (every question asked through Ask and its answer, and questions imported from
other tools' logs) as people read, fill and prune it: `sqldistill questions list`, `import` and
`forget`, straight on the store - none needs a running controller (a run waiting on the log sees an
import within a minute)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from shared.catalogue import Catalogue
from shared.limits import MAX_IMPORT_QUESTIONS, MAX_NAME_CHARS, MAX_QUESTION_CHARS, MAX_SQL_CHARS
from shared.store import AskedQuestion, Store

FEEDBACK_FILTERS = ("right", "wrong", "none")
SQL_KEYS = ("sql", "query", "SQL")  # what an imported row's SQL may be called
TIME_KEYS = ("asked_at", "timestamp", "created_at", "time")
IMPORT_BATCH = 500  # rows per INSERT (SQLite caps a statement's parameters)


class NothingChosen(ValueError):
    """forget was given nothing to choose the questions by."""


@dataclass(frozen=True)
class Asked:
    id: str
    asked_at: datetime
    db_id: str
    question: str
    version: str
    sql: str
    status: str
    agreement: str  # "3/4": answers in the answer's group, of those that voted
    feedback: str  # "" | right | wrong
    gold_sql: str  # a person's SQL ("" without)
    origin: str  # ask | import


def _open(url: str) -> Store:
    store = Store.existing(url)
    if store is None:
        raise FileNotFoundError(f"there is no store at {url.removeprefix('sqlite:///')} yet")
    return store


def list_asked(
    url: str,
    db_id: str = "",
    limit: int = 50,
    version: str = "",
    feedback: str = "",
    labelled: bool | None = None,
) -> list[Asked]:
    """The newest logged questions first; on one database, answered by one version, with this
    feedback ("none": without any), or with (labelled) or without a person's SQL, when given."""
    if feedback and feedback not in FEEDBACK_FILTERS:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_FILTERS)}, got {feedback!r}")
    store = _open(url)
    try:
        with store.session() as s:
            query = select(AskedQuestion).order_by(AskedQuestion.created_at.desc()).limit(limit)
            if db_id:
                query = query.where(AskedQuestion.db_id == db_id)
            if version:
                query = query.where(AskedQuestion.version == version)
            if feedback:
                query = query.where(AskedQuestion.feedback == ("" if feedback == "none" else feedback))
            if labelled is not None:
                has = AskedQuestion.gold_sql.is_not(None) & (AskedQuestion.gold_sql != "")
                query = query.where(has if labelled else ~has)
            return [
                Asked(
                    q.id,
                    q.created_at,
                    q.db_id,
                    q.question,
                    q.version,
                    q.sql,
                    q.status,
                    f"{q.agreement_votes}/{q.samples}",
                    q.feedback,
                    q.gold_sql or "",
                    q.origin,
                )
                for q in s.scalars(query)
            ]
    finally:
        store.close()


def forget(url: str, answer_id: str = "", db_id: str = "", before: datetime | None = None) -> int:
    """Delete the asked questions chosen by every criterion given (at least one); how many."""
    if not (answer_id or db_id or before):
        raise NothingChosen("say which questions to forget: an answer id, --db or --before")
    store = _open(url)
    try:
        with store.session() as s:
            query = delete(AskedQuestion)
            if answer_id:
                query = query.where(AskedQuestion.id == answer_id)
            if db_id:
                query = query.where(AskedQuestion.db_id == db_id)
            if before is not None:
                query = query.where(AskedQuestion.created_at < before)
            return s.execute(query).rowcount
    finally:
        store.close()


class ImportRefused(ValueError):
    """An imported file had rows that cannot join the log; nothing was imported."""


@dataclass(frozen=True)
class ImportedRow:
    where: str  # file:line
    db_id: str
    question: str
    sql: str
    asked_at: datetime
    stamped: bool  # the file gave the time; without one, importing again must not make it new


@dataclass(frozen=True)
class Imported:
    rows: int  # rows in the file
    added: int  # new to the log (a row imported before is not added again)
    with_sql: int  # rows that brought a person's SQL


def read_import(path: Path, db_id: str, databases: set[str]) -> list[ImportedRow]:
    """The questions of a JSONL or CSV file (`question`, optional `sql`, `db_id`, `asked_at`);
    ImportRefused naming each bad row (`file:line`) when any is bad."""
    records = _records(path)
    if len(records) > MAX_IMPORT_QUESTIONS:
        raise ImportRefused(f"{path}: {len(records)} rows; at most {MAX_IMPORT_QUESTIONS} per import")
    rows, problems = [], []
    for line, record in records:
        where = f"{path.name}:{line}"
        question = str(record.get("question") or "").strip()
        sql = str(next((record[k] for k in SQL_KEYS if record.get(k)), "")).strip()
        db = str(record.get("db_id") or db_id)
        if not question:
            problems.append(f"{where}: no question")
        elif len(question) > MAX_QUESTION_CHARS:
            problems.append(f"{where}: the question is over {MAX_QUESTION_CHARS} characters")
        elif not db:
            problems.append(f"{where}: no database (give --db or a db_id column)")
        elif db not in databases:
            problems.append(f"{where}: unknown database {db!r}")
        elif len(sql) > MAX_SQL_CHARS:
            problems.append(f"{where}: the SQL is over {MAX_SQL_CHARS} characters")
        else:
            try:
                rows.append(ImportedRow(where, db, question, sql, *_moment(record)))
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    if problems:
        raise ImportRefused(
            "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )
    return rows


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))  # a quoted field may hold newlines
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise ImportRefused(f"{path}: a CSV needs a header with a question column")
        rows = []
        for row in reader:
            rows.append((reader.line_num, dict(row)))  # the line the row ends on
        return rows
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportRefused(f"{path.name}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ImportRefused(f"{path.name}:{number}: expected an object with a question")
        records.append((number, record))
    return records


def _moment(record: dict[str, Any]) -> tuple[datetime, bool]:
    """When the row's question was asked (now when the file does not say), and whether it said."""
    raw = next((record[k] for k in TIME_KEYS if record.get(k)), None)
    if raw is None:
        return datetime.now(UTC), False
    moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), True


def store_imported(url: str, rows: list[ImportedRow], by: str) -> Imported:
    """The rows in the log (their SQL, when given, as a person's SQL), each once: a row's id is its
    content, so importing a file again adds nothing."""
    if len(by) > MAX_NAME_CHARS:
        raise ValueError(f"--by is at most {MAX_NAME_CHARS} characters")
    store = _open(url)
    try:
        added = 0
        records = [
            {
                "id": _row_id(r),
                "db_id": r.db_id,
                "question": r.question,
                "version": "",
                "few_shot_k": 0,
                "sql": "",
                "samples": 0,
                "agreement_votes": 0,
                "executable": 0,
                "status": "",
                "error": "",
                "row_count": 0,
                "elapsed_ms": 0.0,
                "origin": "import",
                "asked_by": by,
                "gold_sql": r.sql or None,
                "created_at": r.asked_at,
            }
            for r in rows
        ]
        with store.session() as s:  # one transaction: all rows or none
            for start in range(0, len(records), IMPORT_BATCH):
                added += store.insert_ignore(s, AskedQuestion, records[start : start + IMPORT_BATCH])
        return Imported(len(rows), added, sum(1 for r in rows if r.sql))
    finally:
        store.close()


def _row_id(row: ImportedRow) -> str:
    when = row.asked_at.isoformat() if row.stamped else ""
    content = "\n".join((row.db_id, row.question, row.sql, when))
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def check_imported_sql(catalogue: Catalogue, rows: list[ImportedRow], workers: int = 1) -> None:
    """Each imported SQL run in the critic's sandbox, as feedback's corrections are: allowed, runs,
    returns rows - or ImportRefused naming the rows that do not."""
    from services.critic.execution import Executor
    from services.critic.sandbox_pool import SandboxPool

    with_sql = [r for r in rows if r.sql]
    if not with_sql:
        return
    executor = Executor(catalogue, SandboxPool(workers=workers))
    try:
        problems = []
        for r in with_sql:
            ran = executor.execute(r.db_id, r.sql)
            if not ran.ok:
                why = "the critic refused the SQL" if ran.status == "DENIED" else "the SQL does not run"
                problems.append(f"{r.where}: {why} ({ran.status.lower()}): {ran.error}")
            elif not ran.rows:
                problems.append(f"{r.where}: the SQL returns no rows")
    finally:
        executor.close()
    if problems:
        raise ImportRefused(
            "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )
