"""Ask: a question about one database, answered by a model version. The version writes SQL with the
prompt it was trained with (with samples, the answer its samples vote for, settled by the critic's
`vote`; SQL that fails to run is repaired with the database's error and the repairs vote too) and
the critic runs the answer in its sandbox, on its interactive lane.

It lives in the controller because only the controller knows versions - which one serves, which
prompt each expects, whether a run is using the work slot - and it already talks to both services.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from services.controller.calls import passed_on
from services.controller.enums import RunState
from services.controller.errors import WrongWriter
from services.controller.generation_client import SERVING, WORK
from services.controller.log_metrics import ASKS
from services.controller.settings import RunSettings
from services.controller.source_answers import answer_on_source, source_of
from services.controller.steps.base import Context
from services.controller.versions import prompt_k, served_model
from shared import defaults
from shared.answering import QuestionIn, answer_by_vote
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.limits import MAX_NAME_CHARS, MAX_QUESTION_CHARS, MAX_REPAIR_ATTEMPTS, MAX_VOTING_SAMPLES
from shared.pb import controller_pb2, critic_pb2
from shared.pbconvert import enum_text
from shared.store import AskedQuestion, ModelVersion, Run

MAX_ANSWER_ROWS = 1_000
ASK_SEED = 0  # the same question asked twice gets the same samples
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class AskIn:
    question: str
    db_id: str
    version: str = ""
    samples: int = 0
    max_rows: int = 0
    repair_attempts: int | None = None  # None = defaults.REPAIR_ATTEMPTS
    asked_by: str = ""  # a client-supplied name, kept in the question log
    request_id: str = ""  # a client's id: a retried ask is recorded once, under it
    on_source: bool = False  # run the answer on the registered source database too

    @property
    def repairs(self) -> int:
        return defaults.REPAIR_ATTEMPTS if self.repair_attempts is None else self.repair_attempts


class Asker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        clients = ctx.clients.typed(passed_on)  # a person waits: tried once, a failure named
        self.generation, self.critic = clients.generation, clients.critic

    def validate(self, request: AskIn) -> None:
        question = request.question.strip()
        if not question:
            raise InvalidArgument("question is empty")
        if len(request.question) > MAX_QUESTION_CHARS:
            raise InvalidArgument(
                f"question is {len(request.question)} characters; the limit is {MAX_QUESTION_CHARS}"
            )
        if not request.db_id:
            raise InvalidArgument("db_id is required")
        if len(request.asked_by) > MAX_NAME_CHARS:
            raise InvalidArgument(f"asked_by is at most {MAX_NAME_CHARS} characters")
        if request.request_id and not REQUEST_ID.fullmatch(request.request_id):
            raise InvalidArgument("request_id must be 1-32 characters of A-Z, a-z, 0-9, _ and -")
        if request.db_id not in self.ctx.catalogue.db_ids:
            raise NotFound(f"unknown database {request.db_id!r}")
        if not 0 <= request.samples <= MAX_VOTING_SAMPLES:
            raise InvalidArgument(f"samples must be within [0, {MAX_VOTING_SAMPLES}], got {request.samples}")
        if not 0 <= request.repairs <= MAX_REPAIR_ATTEMPTS:
            raise InvalidArgument(
                f"repair_attempts must be within [0, {MAX_REPAIR_ATTEMPTS}], got {request.repairs}"
            )
        if not 0 <= request.max_rows <= MAX_ANSWER_ROWS:
            raise InvalidArgument(f"max_rows must be within [0, {MAX_ANSWER_ROWS}], got {request.max_rows}")

    def _version(self, name: str) -> tuple[str, int, int]:
        """(version id, shots, slot) of the version to ask: the serving one unless named; another
        is loaded into the work slot, which only a version no run is using may take."""
        serving = self.generation.describe().version
        with self.ctx.store.session() as s:
            wanted = s.get(ModelVersion, name or serving) if (name or serving) else None
            if name and wanted is None:
                raise NotFound(f"no model version {name!r}")
            shots = prompt_k(wanted, RunSettings()) if wanted is not None else RunSettings().few_shot_k
            if not name or name == serving:
                return serving, shots, SERVING
            busy = s.scalar(select(Run.id).where(Run.state == RunState.RUNNING).limit(1))
            if busy:
                raise FailedPrecondition(
                    f"run {busy} is using the work slot; ask the serving version ({serving}) "
                    "or ask again when the run is over"
                )
            s.expunge(wanted)
        self.generation.in_work_slot(served_model(wanted))
        return name, shots, WORK

    def ask(self, request: AskIn) -> controller_pb2.Answer:
        self.validate(request)
        source = source_of(self.ctx.store, request.db_id) if request.on_source else None
        started = time.monotonic()
        version, shots, slot = self._version(request.version)
        settings = RunSettings()  # a run's default decoding
        question = QuestionIn(id="q", db_id=request.db_id, question=request.question)
        try:
            (answered,) = answer_by_vote(
                [question],
                self.generation.writer(shots=shots, slot=slot, expect=version),
                self.critic.voter(interactive=True),
                settings.greedy(),
                request.samples,
                settings.sampling(ASK_SEED),
                repair_attempts=request.repairs,
            )
        except WrongWriter as exc:
            raise FailedPrecondition(f"{exc}; ask again") from None
        ballots = len(answered.ballots())
        # Nothing executed and no greedy SQL: the first sample is answered, with its own error.
        sql = answered.sql or next(iter(answered.samples), "")
        answer = controller_pb2.Answer(version=version, few_shot_k=shots, samples=ballots, sql=sql)
        if answered.repair is not None:
            answer.repaired_sql, answer.repaired_error = answered.repair.failed_sql, answered.repair.error
        if answered.vote is not None:
            answer.agreement_votes, answer.executable = answered.vote.agreement, answered.vote.executable
        if not sql:
            answer.status, answer.error = critic_pb2.EXECUTION_STATUS_ERROR, "the model wrote no usable SQL"
        else:
            ran = self.critic.execute(request.db_id, sql)
            answer.status, answer.error = ran.status, ran.error
            answer.result.columns.extend(ran.result.columns)
            answer.result.rows.extend(ran.result.rows[: request.max_rows or defaults.ANSWER_ROWS])
            answer.result.truncated = ran.result.truncated or len(ran.result.rows) > len(answer.result.rows)
            answer.row_count = len(ran.result.rows)
            if answered.vote is None:  # one ballot: it agrees with itself if it executed
                ok = ran.status == critic_pb2.EXECUTION_STATUS_OK
                answer.agreement_votes = answer.executable = int(ok)
        if source is not None:
            answer_on_source(source, answer, request.max_rows or defaults.ANSWER_ROWS)
        answer.elapsed_ms = (time.monotonic() - started) * 1000
        ASKS.labels(db_id=request.db_id, status=enum_text(critic_pb2.ExecutionStatus, answer.status)).inc()
        if self.ctx.record_asks:
            answer.answer_id = self._record(request, answer)
        return answer

    def _record(self, request: AskIn, answer: controller_pb2.Answer) -> str:
        """The question and its answer in the question log; the answer's id."""
        answer_id = request.request_id or uuid.uuid4().hex
        with self.ctx.store.session() as s:
            added = self.ctx.store.insert_ignore(  # a retried request_id: recorded the first time
                s,
                AskedQuestion,
                [
                    dict(
                        id=answer_id,
                        db_id=request.db_id,
                        question=request.question,
                        version=answer.version,
                        few_shot_k=answer.few_shot_k,
                        sql=answer.sql,
                        samples=answer.samples,
                        agreement_votes=answer.agreement_votes,
                        executable=answer.executable,
                        status=enum_text(critic_pb2.ExecutionStatus, answer.status),
                        error=answer.error,
                        row_count=answer.row_count,
                        elapsed_ms=answer.elapsed_ms,
                        repaired_sql=answer.repaired_sql or None,
                        origin="ask",
                        asked_by=request.asked_by,
                        created_at=datetime.now(UTC),
                    )
                ],
            )
        if added:
            self.ctx.on_logged()
        return answer_id
