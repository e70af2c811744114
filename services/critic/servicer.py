"""The critic's gRPC servicer: translates messages to and from services.critic.logic, nothing more."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.critic.logic import AccuracyReport, CandidateIn, Critic, JudgeSettings, PredictionIn, VerdictOut
from shared.errors import InvalidArgument
from shared.limits import MAX_CANDIDATES, MAX_INTERACTIVE_VOTE_ITEMS, MAX_SAMPLES, MAX_VOTE_ITEMS
from shared.pb import common_pb2, critic_pb2, critic_pb2_grpc
from shared.pbconvert import message_from, set_fields, to_result_set

STATUS = {
    "OK": critic_pb2.EXECUTION_STATUS_OK,
    "ERROR": critic_pb2.EXECUTION_STATUS_ERROR,
    "DENIED": critic_pb2.EXECUTION_STATUS_DENIED,
    "TIMEOUT": critic_pb2.EXECUTION_STATUS_TIMEOUT,
    "RESOURCE_EXHAUSTED": critic_pb2.EXECUTION_STATUS_RESOURCE_EXHAUSTED,
    "": critic_pb2.EXECUTION_STATUS_UNSPECIFIED,
}


def accuracy_message(report: AccuracyReport) -> common_pb2.Accuracy:
    message = common_pb2.Accuracy(
        total=report.total, execution=report.execution, test_suite=report.test_suite
    )
    for level, sub in report.by_hardness.items():
        message.by_hardness[level].CopyFrom(accuracy_message(sub))
    return message


def verdict_message(v: VerdictOut) -> critic_pb2.Verdict:
    return message_from(critic_pb2.Verdict, v, status=STATUS[v.status])


class CriticServicer(critic_pb2_grpc.CriticServiceServicer):
    def __init__(self, critic: Critic) -> None:
        self.critic = critic

    def Execute(
        self, request: critic_pb2.ExecuteRequest, context: grpc.ServicerContext
    ) -> critic_pb2.ExecuteResponse:
        outcome = self.critic.execute(request.db_id, request.sql, request.timeout_ms, request.max_rows)
        return critic_pb2.ExecuteResponse(
            status=STATUS[outcome.status],
            error=outcome.error,
            result=to_result_set(outcome.columns, outcome.rows, outcome.truncated),
            elapsed_ms=outcome.elapsed_ms,
        )

    def JudgeCandidates(
        self, request: critic_pb2.JudgeRequest, context: grpc.ServicerContext
    ) -> Iterator[critic_pb2.Verdict]:
        if not request.candidates:
            raise InvalidArgument("candidates is empty")
        if len(request.candidates) > MAX_CANDIDATES:
            raise InvalidArgument(
                f"at most {MAX_CANDIDATES} candidates per call, got {len(request.candidates)}"
            )
        ids = [c.id for c in request.candidates]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            raise InvalidArgument("every candidate needs a unique, non-empty id")
        options = request.options
        settings = JudgeSettings(
            test_suite=options.test_suite,
            vote_without_gold=options.vote_without_gold,
            dedupe=options.dedupe,
            **set_fields(options, ("majority_share", "majority_min_votes")),
        )
        candidates = [
            CandidateIn(c.id, c.db_id, c.question, c.sql, c.gold_sql, tuple(c.resampled_sql))
            for c in request.candidates
        ]
        for verdict in self.critic.judge(candidates, settings):
            if not context.is_active():
                return
            yield verdict_message(verdict)

    def Evaluate(
        self, request: critic_pb2.EvaluateRequest, context: grpc.ServicerContext
    ) -> critic_pb2.EvaluateResponse:
        if not request.predictions:
            raise InvalidArgument("predictions is empty")
        predictions = [
            PredictionIn(p.id or str(i), p.db_id, p.gold_sql, p.predicted_sql, p.question)
            for i, p in enumerate(request.predictions)
        ]
        report, scores = self.critic.evaluate(predictions, request.test_suite)
        return critic_pb2.EvaluateResponse(
            accuracy=accuracy_message(report),
            queries=[
                critic_pb2.QueryReport(
                    id=s.id,
                    db_id=s.db_id,
                    hardness=s.hardness,
                    execution_match=s.execution_match,
                    test_suite_match=s.test_suite_match,
                    error=s.error,
                )
                for s in scores
            ],
        )

    def Vote(self, request: critic_pb2.VoteRequest, context: grpc.ServicerContext) -> critic_pb2.VoteResponse:
        if not request.items:
            raise InvalidArgument("items is empty")
        if len(request.items) > MAX_VOTE_ITEMS:
            raise InvalidArgument(f"at most {MAX_VOTE_ITEMS} items per call, got {len(request.items)}")
        if request.interactive and len(request.items) > MAX_INTERACTIVE_VOTE_ITEMS:
            raise InvalidArgument(
                f"an interactive vote settles at most {MAX_INTERACTIVE_VOTE_ITEMS} questions, "
                f"got {len(request.items)}: bulk votes take the judging lane"
            )
        outcomes = []
        for item in request.items:
            if not item.sql or len(item.sql) > MAX_SAMPLES:
                raise InvalidArgument(
                    f"item {item.id or '?'} needs 1 to {MAX_SAMPLES} SQL samples, got {len(item.sql)}"
                )
            preferred = item.preferred if item.HasField("preferred") else -1
            if not -1 <= preferred < len(item.sql):
                raise InvalidArgument(f"item {item.id or '?'}: preferred {preferred} is not a sample index")
            result = self.critic.vote(
                item.db_id, list(item.sql), request.test_suite, preferred, interactive=request.interactive
            )
            index = result.answer(preferred)
            outcomes.append(
                critic_pb2.VoteOutcome(
                    id=item.id,
                    winner_index=index,
                    winner_sql=item.sql[index] if index >= 0 else "",
                    agreement_votes=len(result.winning),
                    executable=result.executable,
                    agreement=result.agreement,
                    group_sizes=[len(g) for g in result.groups],
                    winner_empty=result.winner_empty,
                    errors=result.errors,
                )
            )
        return critic_pb2.VoteResponse(outcomes=outcomes)

    def DescribeDatabases(
        self, request: critic_pb2.DescribeDatabasesRequest, context: grpc.ServicerContext
    ) -> critic_pb2.DescribeDatabasesResponse:
        schemas = self.critic.describe(list(request.db_ids))
        return critic_pb2.DescribeDatabasesResponse(
            databases=[
                critic_pb2.DatabaseInfo(
                    db_id=s.db_id,
                    schema_text=s.schema_text(),
                    tables=[
                        critic_pb2.Table(
                            name=t.name,
                            row_count=t.row_count,
                            columns=[
                                critic_pb2.Column(
                                    name=c.name,
                                    type=c.type,
                                    primary_key=c.primary_key,
                                    sample_values=list(c.sample_values),
                                )
                                for c in t.columns
                            ],
                            foreign_keys=[
                                critic_pb2.ForeignKey(
                                    column=f.column, ref_table=f.ref_table, ref_column=f.ref_column
                                )
                                for f in t.foreign_keys
                            ],
                        )
                        for t in s.tables
                    ],
                )
                for s in schemas
            ]
        )
