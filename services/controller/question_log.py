"""The question log as a run reads it (`questions_from: log`): each distinct question people asked or
imported, with a person's SQL where feedback or an import gave one; which of them are held out (a
hash of the question decides, so the same ones always are: they never train, and those with a
person's SQL are gate questions); and what arrived since a time, which a continuous run waits for."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select

from services.controller.training_set import normalise_question
from shared.catalogue import Example
from shared.store import AskedQuestion, Store

LOG_SPLIT = "log"  # the split name the log's questions carry as Examples


@dataclass(frozen=True)
class LoggedQuestion:
    db_id: str
    question: str  # as first asked
    gold_sql: str  # a person's SQL ("" without): the newest correction, right-mark or import

    @property
    def key(self) -> tuple[str, str]:
        return question_key(self.db_id, self.question)

    def example(self) -> Example:
        digest = _key_digest(self.key).hex()[:16]
        return Example(self.db_id, self.question, self.gold_sql, LOG_SPLIT, f"log:{digest}")


def question_key(db_id: str, question: str) -> tuple[str, str]:
    """Case, spacing and trailing punctuation do not make a question new (the training set's rule)."""
    return db_id, normalise_question(question)


def held_out(db_id: str, question: str, share: float) -> bool:
    """Whether the question belongs to the held-out share: a hash, so it never changes side."""
    digest = _key_digest(question_key(db_id, question))
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _key_digest(key: tuple[str, str]) -> bytes:
    return hashlib.sha256("\n".join(key).encode()).digest()


def log_databases(db_ids: Iterable[str], present: Iterable[str]) -> list[str]:
    """The databases a run on the question log reads: its db_ids (none: every database), only those
    still in the dataset - questions about one removed since are left out, not sent and failed on."""
    here = list(present)
    return [d for d in (list(db_ids) or here) if d in here]


def logged_questions(
    store: Store, db_ids: Iterable[str] | None = None, before: datetime | None = None
) -> list[LoggedQuestion]:
    """Each distinct question of the log, in the order it reached the log, on these databases when
    given (None: all), as it stood at `before` when given (what reached it later is left out; SQL
    too)."""
    query = select(AskedQuestion).order_by(AskedQuestion.logged_at, AskedQuestion.id)
    if db_ids is not None:
        query = query.where(AskedQuestion.db_id.in_(set(db_ids)))
    cutoff = as_utc(before) if before is not None else None
    first: dict[tuple[str, str], AskedQuestion] = {}
    gold: dict[tuple[str, str], tuple[datetime, str]] = {}
    with store.session() as s:
        for row in s.scalars(query):
            if cutoff is not None and as_utc(row.logged_at) >= cutoff:
                continue
            key = question_key(row.db_id, row.question)
            first.setdefault(key, row)
            when = row.feedback_at or row.logged_at
            if row.gold_sql and (cutoff is None or as_utc(when) < cutoff):
                if key not in gold or as_utc(when) >= as_utc(gold[key][0]):
                    gold[key] = (when, row.gold_sql)
        return [LoggedQuestion(r.db_id, r.question, gold.get(k, (None, ""))[1]) for k, r in first.items()]


@dataclass(frozen=True)
class LogSplit:
    training: list[LoggedQuestion]  # may train: unlabelled, or labelled when gold_sql is set
    gate: list[Example]  # held out with a person's SQL: the gate's questions from the log


def split_log(
    questions: Iterable[LoggedQuestion], holdout: float, held_out_dbs: Iterable[str] = ()
) -> LogSplit:
    """Training and gate questions; questions on the run's held-out databases never train either."""
    away = set(held_out_dbs)
    training, gate = [], []
    for q in questions:
        if held_out(q.db_id, q.question, holdout):
            if q.gold_sql:
                gate.append(q.example())
        elif q.db_id not in away:
            training.append(q)
    return LogSplit(training, gate)


@dataclass(frozen=True)
class NewMaterial:
    questions: int  # distinct questions first asked (or imported) since then
    corrections: int  # person's SQL given since then


def new_since(
    store: Store,
    since: datetime,
    db_ids: Iterable[str] | None = None,
    holdout: float = 0.0,
    held_out_dbs: Iterable[str] = (),
) -> NewMaterial:
    """What arrived in the log after `since` that a run could learn from - what a waiting continuous
    run counts: questions of the held-out share or on held-out databases never train, so they do
    not start a round."""
    since, away = as_utc(since), set(held_out_dbs)
    rows = select(
        AskedQuestion.db_id,
        AskedQuestion.question,
        AskedQuestion.logged_at,  # when it reached the log: an import of old questions is new now
        AskedQuestion.feedback_at,
        AskedQuestion.gold_sql,
    )
    if db_ids is not None:
        rows = rows.where(AskedQuestion.db_id.in_(set(db_ids)))
    first_asked: dict[tuple[str, str], datetime] = {}
    corrections = 0
    with store.session() as s:
        for db_id, question, created, feedback_at, gold_sql in s.execute(rows):
            if db_id in away or held_out(db_id, question, holdout):
                continue
            key = question_key(db_id, question)
            if key not in first_asked or as_utc(created) < first_asked[key]:
                first_asked[key] = as_utc(created)
            corrections += bool(gold_sql and feedback_at and as_utc(feedback_at) > since)
    return NewMaterial(sum(1 for when in first_asked.values() if when > since), corrections)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone columns; every time here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class VersionAsks:
    """What the log says of one version: its answers to people and their feedback."""

    answered: int
    executable: float  # share of its answers that ran
    agreement: float  # mean share of samples in the answer's group, over answers with samples
    marked_right: int
    marked_wrong: int


def asks_by_version(store: Store) -> dict[str, VersionAsks]:
    ok = case((AskedQuestion.status == "ok", 1.0), else_=0.0)
    share = case(
        (AskedQuestion.samples > 0, 1.0 * AskedQuestion.agreement_votes / AskedQuestion.samples), else_=None
    )
    query = (
        select(
            AskedQuestion.version,
            func.count(),
            func.avg(ok),
            func.avg(share),
            func.sum(case((AskedQuestion.feedback == "right", 1), else_=0)),
            func.sum(case((AskedQuestion.feedback == "wrong", 1), else_=0)),
        )
        .where(AskedQuestion.origin == "ask", AskedQuestion.version != "")
        .group_by(AskedQuestion.version)
    )
    with store.session() as s:
        return {
            version: VersionAsks(count, float(ran or 0), float(agree or 0), int(right or 0), int(wrong or 0))
            for version, count, ran, agree, right, wrong in s.execute(query)
        }


def log_execution(per_question: dict[str, list] | None) -> tuple[int, float]:
    """An evaluation's held-out log questions and the share it answered right (EX)."""
    ids = [q for q in (per_question or {}) if q.startswith(f"{LOG_SPLIT}:")]
    if not ids:
        return 0, 0.0
    return len(ids), sum(bool(per_question[q][0]) for q in ids) / len(ids)
