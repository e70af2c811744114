"""The controller's typed client of the generation service: requests built in one place, every call
through the caller's policy (a round retries, a person's ask is tried once), and the check that the
slot answered with the version the caller expects (runs on other lineages share the service)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from services.controller.calls import Caller
from services.controller.errors import WrongWriter
from services.controller.versions import ServedModel
from shared import defaults
from shared.answering import QuestionIn, SqlWriter
from shared.limits import MAX_QUESTIONS, MAX_REVIEW_SQL
from shared.pb import generation_pb2
from shared.pbconvert import sampling_message
from shared.sampling import Sampling

log = logging.getLogger("sqldistill.controller")

SERVING = generation_pb2.MODEL_SLOT_SERVING
WORK = generation_pb2.MODEL_SLOT_WORK
QUESTIONS_PER_CALL = 16  # questions per GenerateSql call: a round's task, an evaluation's chunk


@dataclass(frozen=True)
class SqlReply:
    sql: list[list[str]]  # each question's SQL, in the order of the questions
    version: str  # the version that wrote them
    constrain: str  # the grammar strength generation applied


class GenerationClient:
    def __init__(self, stub: object, call: Caller) -> None:
        self._stub = stub
        self._call = call

    # --- the slots -------------------------------------------------------------------------------
    def describe(self, slot: int = SERVING) -> generation_pb2.ModelInfo:
        request = generation_pb2.DescribeModelRequest(slot=slot)
        return self._call(lambda: self._stub.DescribeModel(request), "generation service (describe model)")

    def engine(self) -> str:
        """How the service computes (backend, device, number format): int8 and fp32 answers differ
        on some questions, so a score is reused only under the same engine."""
        info = self.describe()
        return f"{info.backend}/{info.device}/{info.precision}"

    def load(self, model: ServedModel, slot: int = SERVING, precision: str = "") -> None:
        """SERVING only to restore what the store says serves; WORK for a candidate under
        evaluation, a teacher, a version someone asks (what serves is untouched) or GENERATE's
        writer at its own precision ("" = the service's)."""
        request = generation_pb2.LoadModelRequest(model=model.ref(), slot=slot, precision=precision)
        self._call(lambda: self._stub.LoadModel(request), f"generation service (load {model.version})")

    def in_work_slot(self, model: ServedModel, precision: str = "") -> None:
        """Make the work slot hold model at precision ("" = as the serving slot computes), loading
        it only if it holds something else (or nothing): an int8 copy for sampling never answers
        the gate."""
        try:
            held = self._stub.DescribeModel(generation_pb2.DescribeModelRequest(slot=WORK))
        except grpc.RpcError:
            held = None
        want = precision or self.describe().precision
        if held is None or held.version != model.version or held.precision != want:
            self.load(model, WORK, precision)

    # --- SQL and pairs ---------------------------------------------------------------------------
    def generate_sql(
        self,
        questions: Sequence[QuestionIn],
        n: int,
        sampling: Sampling,
        *,
        shots: int,
        slot: int = SERVING,
        constrain: str = "",
        expect: str = "",
        example_sets: int = defaults.EXAMPLE_SETS,
    ) -> SqlReply:
        """n SQL per question (a question with failed_sql asks for its repair); `constrain` ""
        leaves the service's own setting; `expect` names the version that must have written them.
        More questions than one call takes go in several calls."""
        sql: list[list[str]] = []
        version = applied = ""
        for start in range(0, len(questions), MAX_QUESTIONS):
            request = generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(
                        id=str(i),
                        db_id=q.db_id,
                        question=q.question,
                        evidence=q.evidence,
                        failed_sql=q.failed_sql,
                        error=q.error,
                    )
                    for i, q in enumerate(questions[start : start + MAX_QUESTIONS])
                ],
                n=n,
                few_shot_k=shots,
                sampling=sampling_message(sampling),
                slot=slot,
                example_sets=example_sets,
            )
            if constrain:
                request.constrain = constrain
            reply = self._call(
                lambda r=request: self._stub.GenerateSql(r), "generation service (generate SQL)"
            )
            check_writer(reply.model_version, expect)
            by_index = {int(r.question_id): list(r.sql) for r in reply.results}
            sql += [by_index.get(i, []) for i in range(len(request.questions))]
            version, applied = reply.model_version, reply.constrain
        return SqlReply(sql, version, applied)

    def review(
        self,
        db_id: str,
        question: str,
        sqls: Sequence[str],
        *,
        shots: int,
        slot: int = SERVING,
        expect: str = "",
    ) -> list[float]:
        """log p(question | SQL) for each SQL, by the slot's model (ReviewSql); more SQL than one call
        takes go in several calls. `expect` names the model that must have scored them."""
        scores: list[float] = []
        for start in range(0, len(sqls), MAX_REVIEW_SQL):
            request = generation_pb2.ReviewSqlRequest(
                db_id=db_id,
                question=question,
                sql=sqls[start : start + MAX_REVIEW_SQL],
                few_shot_k=shots,
                slot=slot,
            )
            reply = self._call(lambda r=request: self._stub.ReviewSql(r), "generation service (review SQL)")
            check_writer(reply.model_version, expect)
            scores += list(reply.logprob)
        return scores

    def review_or_none(
        self,
        db_id: str,
        question: str,
        sqls: Sequence[str],
        *,
        shots: int,
        slot: int = SERVING,
        expect: str = "",
    ) -> list[float] | None:
        """review(), or None where the service refuses these SQL (INVALID_ARGUMENT, e.g. past the
        model's context window): what cannot be scored decides nothing, and the step goes on."""
        try:
            return self.review(db_id, question, sqls, shots=shots, slot=slot, expect=expect)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            log.warning("review of %r on %s refused: %s", question, db_id, exc.details())
            return None

    def writer(
        self, *, shots: int, slot: int, constrain: str = "", expect: str = "", applied: set[str] | None = None
    ) -> SqlWriter:
        """generate_sql as shared.answering's SqlWriter; each reply's grammar strength is added to
        `applied` when given."""

        def write(questions: Sequence[QuestionIn], n: int, sampling: Sampling) -> list[list[str]]:
            reply = self.generate_sql(
                questions, n, sampling, shots=shots, slot=slot, constrain=constrain, expect=expect
            )
            if applied is not None:
                applied.add(reply.constrain)
            return reply.sql

        return write

    def generate_pairs(
        self,
        db_id: str,
        n: int,
        sampling: Sampling,
        *,
        shots: int,
        levels: Sequence[str] = (),
        focus: Sequence[Sequence[str]] = (),
        slot: int = SERVING,
        constrain: str = "",
        expect: str = "",
    ) -> list[generation_pb2.GeneratedPair]:
        """Self-instruct (question, SQL) pairs for one database, each focus a set of its tables."""
        request = generation_pb2.GeneratePairsRequest(
            db_id=db_id,
            n=n,
            levels=list(levels),
            few_shot_k=shots,
            sampling=sampling_message(sampling),
            slot=slot,
            focus=[generation_pb2.TableFocus(tables=list(tables)) for tables in focus],
        )
        if constrain:
            request.constrain = constrain
        pairs = self._call(
            lambda: list(self._stub.GeneratePairs(request)), f"generation service (pairs for {db_id})"
        )
        for pair in pairs:
            check_writer(pair.model_version, expect)
        return pairs


def check_writer(reply_version: str, expect: str) -> None:
    if expect and reply_version != expect:
        raise WrongWriter(f"expected SQL from {expect}, the generation slot holds {reply_version}")
