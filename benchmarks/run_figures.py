"""A bench run's figures, read back from its store for the report (the run never sees them): minutes
per step, where self-instruct generation went, the questions kept, and - against the withheld gold
SQL - whether each majority label was right."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.critic.matching import order_matters, results_match
from shared.catalogue import Catalogue
from shared.event_kinds import EventKind
from shared.schema import open_readonly
from shared.store import Candidate, Event, Verdict


def step_minutes(events: list[Event]) -> dict[int, dict[str, float]]:
    """Minutes per step per round, from the step_started events' times."""
    out: dict[int, dict[str, float]] = {}
    starts = sorted((e.created_at, e.round, e.step) for e in events if e.kind == EventKind.STEP_STARTED)
    for (at, number, step), following in zip(starts, starts[1:] + [(None, None, None)], strict=True):
        end = following[0] or at
        out.setdefault(number, {})[step] = (end - at).total_seconds() / 60
    return out


def generation_parts(events: list[Event]) -> dict[int, dict[str, float]]:
    """Where self-instruct generation minutes went (pair writing, re-answers), and the pairs dropped
    as near-duplicates before re-answering, from the task_done events' figures."""
    out: dict[int, dict[str, float]] = {}
    for e in events:
        if e.kind == EventKind.TASK_DONE and (e.figures or {}).get("pair_seconds") is not None:
            row = out.setdefault(e.round, {})
            for key in (
                "pair_seconds",
                "reanswer_seconds",
                "pairs",
                "near_duplicates",
            ):
                row[key] = round(row.get(key, 0) + (e.figures.get(key) or 0), 1)
    return out


def label_outcomes(
    session: Any, catalogue: Catalogue, run_id: str | None = None
) -> dict[tuple[int, str, str], tuple[float, bool | None]]:
    """Unlabelled mode, for reports only (the run never saw this): each (round, database, question)
    a majority labelled - of one run, or of every run in the store - with its winning group's
    agreement share and whether any kept SQL returns the withheld gold's result (None: no gold)."""
    gold = {(e.db_id, e.question): e.query for e in catalogue.examples("train")}
    query = (
        select(Candidate.round, Candidate.db_id, Candidate.question, Candidate.sql, Verdict.consistency)
        .join(Verdict, Verdict.candidate_id == Candidate.id)
        .where(Candidate.source == "unlabelled", Verdict.kept.is_(True))
    )
    if run_id is not None:
        query = query.where(Candidate.run_id == run_id)
    kept: dict[tuple[int, str, str], tuple[float, list[str]]] = {}
    for number, db_id, question, sql, share in session.execute(query).all():
        kept.setdefault((number, db_id, question), (share or 0.0, []))[1].append(sql)
    out: dict[tuple[int, str, str], tuple[float, bool | None]] = {}
    for (number, db_id, question), (share, sqls) in kept.items():
        truth = gold.get((db_id, question), "")
        right = any(same_result(catalogue.path(db_id), truth, sql) for sql in sqls) if truth else None
        out[(number, db_id, question)] = (share, right)
    return out


def majorities(session: Any, run_id: str, catalogue: Catalogue) -> dict[int, dict[str, int]]:
    """Unlabelled mode, for the report only: per round, the questions asked, those a majority
    labelled, and how many of those labels match the withheld gold SQL (label_outcomes)."""
    asked = session.execute(
        select(Candidate.round, Candidate.db_id, Candidate.question)
        .where(Candidate.run_id == run_id, Candidate.source == "unlabelled")
        .distinct()
    ).all()
    out: dict[int, dict[str, int]] = {}
    for number, _db_id, _question in asked:
        out.setdefault(number, {"asked": 0, "labelled": 0, "labels_right": 0})["asked"] += 1
    for (number, _db_id, _question), (_share, right) in label_outcomes(session, catalogue, run_id).items():
        out[number]["labelled"] += 1
        out[number]["labels_right"] += bool(right)
    return out


def kept_questions(session: Any, run_id: str) -> dict[int, int]:
    """Per round: distinct (database, question) with at least one kept candidate - what training
    gains, whatever the number of SQL kept per question."""
    rows = session.execute(
        select(Candidate.round, Candidate.db_id, Candidate.question)
        .join(Verdict, Verdict.candidate_id == Candidate.id)
        .where(Candidate.run_id == run_id, Verdict.kept.is_(True))
        .distinct()
    ).all()
    out: dict[int, int] = {}
    for number, _db_id, _question in rows:
        out[number] = out.get(number, 0) + 1
    return out


def same_result(path: Path, gold: str, sql: str) -> bool:
    connection = open_readonly(path)
    started = time.monotonic()
    connection.set_progress_handler(lambda: int(time.monotonic() - started > 10), 10_000)
    try:
        return results_match(
            connection.execute(gold).fetchall(), connection.execute(sql).fetchall(), order_matters(gold)
        )
    except sqlite3.Error:
        return False
    finally:
        connection.close()
