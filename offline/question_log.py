"""The question log (every question asked through Ask and its answer) as people read and prune it:
`sqldistill questions list` and `questions forget`, straight on the store - for data that must not
be kept, forgetting needs no running controller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from shared.store import AskedQuestion, Store


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


def _open(url: str) -> Store:
    store = Store.existing(url)
    if store is None:
        raise FileNotFoundError(f"there is no store at {url.removeprefix('sqlite:///')} yet")
    return store


def list_asked(url: str, db_id: str = "", limit: int = 50) -> list[Asked]:
    """The newest asked questions first, on one database when db_id is given."""
    store = _open(url)
    try:
        with store.session() as s:
            query = select(AskedQuestion).order_by(AskedQuestion.created_at.desc()).limit(limit)
            if db_id:
                query = query.where(AskedQuestion.db_id == db_id)
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
