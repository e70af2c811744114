"""The critic's gRPC servicer: translates messages to and from services.critic.logic, nothing more."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.critic.logic import AccuracyReport, CandidateIn, Critic, JudgeSettings, PredictionIn, VerdictOut
from shared.errors import InvalidArgument
from shared.pb import common_pb2, critic_pb2, critic_pb2_grpc
from shared.pbconvert import to_result_set

MAX_CANDIDATES = 100_000

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
    return critic_pb2.Verdict(
        candidate_id=v.candidate_id,
        kept=v.kept,
        reasons=v.reasons,
        parses=v.parses,
        executes=v.executes,
        status=STATUS[v.status],
        error=v.error,
        canonical_sql=v.canonical_sql,
        hardness=v.hardness,
        has_gold=v.has_gold,
        execution_match=v.execution_match,
        test_suite_match=v.test_suite_match,
        consistency=v.consistency,
        result_rows=v.result_rows,
    )


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
        threshold = (
            {"consistency_threshold": options.consistency_threshold}
            if options.HasField("consistency_threshold")
            else {}
        )
        settings = JudgeSettings(
            test_suite=options.test_suite,
            consistency_samples=options.consistency_samples,
            dedupe=options.dedupe,
            **threshold,
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
