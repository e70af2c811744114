"""Feedback on an answer in the question log: right, wrong, or the right SQL. A person's SQL (a
correction, or the answer marked right) is what runs on the log train on as a labelled row and gate
on; a correction is run by the critic in its sandbox first - it must be allowed, run and return
rows - so nothing hostile or broken becomes a label. An answer marked right becomes one only if it
returned rows (any query that returns nothing would match an empty label); one marked wrong is no
one's label any more, on any answer to the same question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.controller.calls import passed_on
from services.controller.log_metrics import FEEDBACK
from services.controller.question_log import question_key
from services.controller.steps.base import Context
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.limits import MAX_NAME_CHARS, MAX_NOTE_CHARS, MAX_SQL_CHARS
from shared.pb import critic_pb2
from shared.pbconvert import enum_text
from shared.prompts import clean_sql
from shared.store import AskedQuestion

VERDICTS = ("right", "wrong")


@dataclass(frozen=True)
class FeedbackIn:
    answer_id: str
    verdict: str = ""  # "" | right | wrong ("" with corrected_sql: wrong, unless it is the answer)
    corrected_sql: str = ""
    note: str = ""
    given_by: str = ""


@dataclass(frozen=True)
class FeedbackOut:
    answer_id: str
    verdict: str
    gold_sql: str  # "" when the question has no person's SQL
    row_count: int  # rows the correction returned (0 without one)


def _same_sql(a: str, b: str) -> bool:
    return clean_sql(a).lower() == clean_sql(b).lower()


class FeedbackTaker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.critic = ctx.clients.typed(passed_on).critic  # a person waits: tried once

    def validate(self, request: FeedbackIn) -> None:
        if not request.answer_id:
            raise InvalidArgument("answer_id is required")
        if request.verdict not in ("", *VERDICTS):
            raise InvalidArgument(f"verdict must be right or wrong, got {request.verdict!r}")
        if not (request.verdict or request.corrected_sql.strip()):
            raise InvalidArgument("say right or wrong, or give the corrected SQL")
        if request.verdict == "right" and request.corrected_sql.strip():
            raise InvalidArgument("a corrected SQL says the answer was wrong: send it without right")
        for name, value, limit in (
            ("corrected_sql", request.corrected_sql, MAX_SQL_CHARS),
            ("note", request.note, MAX_NOTE_CHARS),
            ("given_by", request.given_by, MAX_NAME_CHARS),
        ):
            if len(value) > limit:
                raise InvalidArgument(f"{name} is {len(value)} characters; the limit is {limit}")

    def give(self, request: FeedbackIn) -> FeedbackOut:
        self.validate(request)
        with self.ctx.store.session() as s:
            row = s.get(AskedQuestion, request.answer_id)
            if row is None:
                raise NotFound(f"no answer {request.answer_id!r} in the question log")
            db_id, asked, answered, status, gold = row.db_id, row.question, row.sql, row.status, row.gold_sql
            returned = row.row_count
        corrected = request.corrected_sql.strip()
        rows = 0
        if corrected:
            rows = self._check(db_id, corrected)
            verdict = "right" if answered and _same_sql(corrected, answered) else "wrong"
            gold = corrected
        elif request.verdict == "right":
            if not answered or status != enum_text(
                critic_pb2.ExecutionStatus, critic_pb2.EXECUTION_STATUS_OK
            ):
                raise FailedPrecondition(
                    f"answer {request.answer_id} has no SQL that ran ({status or 'not answered'}): "
                    "give the right SQL instead"
                )
            verdict, gold = "right", answered if returned else gold
        else:  # wrong, without a correction: an earlier right-mark's SQL is no one's label any more
            verdict = "wrong"
            if gold and answered and _same_sql(gold, answered):
                gold = None
        with self.ctx.store.session() as s:
            row = s.get(AskedQuestion, request.answer_id)
            if row is None:  # forgotten while the critic ran the correction
                raise NotFound(f"no answer {request.answer_id!r} in the question log")
            row.feedback, row.gold_sql = verdict, gold
            if verdict == "wrong" and answered:
                self._unlabel(s, db_id, asked, answered)
            row.feedback_note, row.feedback_by = request.note, request.given_by
            row.feedback_at = datetime.now(UTC)
        FEEDBACK.labels(verdict=verdict, corrected=str(bool(corrected)).lower()).inc()
        self.ctx.on_logged()
        return FeedbackOut(request.answer_id, verdict, gold or "", rows)

    @staticmethod
    def _unlabel(s: Any, db_id: str, question: str, wrong_sql: str) -> None:
        """The SQL marked wrong stops being the label of every answer to the same question (another
        answer's right-mark, an import), or the newest of them would still train and gate."""
        key = question_key(db_id, question)
        for other in s.scalars(
            select(AskedQuestion).where(AskedQuestion.db_id == db_id, AskedQuestion.gold_sql.is_not(None))
        ):
            if question_key(other.db_id, other.question) == key and _same_sql(other.gold_sql, wrong_sql):
                other.gold_sql = None

    def _check(self, db_id: str, sql: str) -> int:
        """The correction's rows in the sandbox, or INVALID_ARGUMENT saying why it cannot be a label."""
        if db_id not in self.ctx.catalogue.db_ids:
            raise FailedPrecondition(f"database {db_id!r} is no longer in the dataset")
        ran = self.critic.execute(db_id, sql)
        if ran.status == critic_pb2.EXECUTION_STATUS_DENIED:
            raise InvalidArgument(f"the critic refused the corrected SQL: {ran.error}")
        if ran.status != critic_pb2.EXECUTION_STATUS_OK:
            status = enum_text(critic_pb2.ExecutionStatus, ran.status)
            raise InvalidArgument(f"the corrected SQL does not run ({status}): {ran.error}")
        if not ran.result.rows:
            raise InvalidArgument("the corrected SQL returns no rows: a label must return something")
        return len(ran.result.rows)
