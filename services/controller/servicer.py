"""The controller's gRPC servicer: message translation (`replies.py`) around
services.controller.runs and its read side."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.controller.ask import Asker, AskIn
from services.controller.feedback import FeedbackIn, FeedbackTaker
from services.controller.replies import ReadReplies, event_message, model_message
from services.controller.rollback import roll_back
from services.controller.runs import RunManager
from services.controller.settings import RunSettings
from shared.errors import require
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.pbconvert import enum_number, enum_text


class ControllerServicer(controller_pb2_grpc.ControllerServiceServicer):
    def __init__(self, manager: RunManager) -> None:
        self.manager = manager
        self.reads = ReadReplies(manager.queries)
        self.asker = Asker(manager.ctx)
        self.feedback = FeedbackTaker(manager.ctx)

    def StartRun(
        self, request: controller_pb2.StartRunRequest, context: grpc.ServicerContext
    ) -> controller_pb2.Run:
        return self.reads.run(self.manager.start_run(RunSettings.from_message(request.spec)))

    def StopRun(self, request: controller_pb2.RunRef, context: grpc.ServicerContext) -> controller_pb2.Run:
        return self.reads.run(self.manager.stop(request.run_id))

    def PauseRun(self, request: controller_pb2.RunRef, context: grpc.ServicerContext) -> controller_pb2.Run:
        return self.reads.run(self.manager.pause(request.run_id))

    def ResumeRun(
        self, request: controller_pb2.ResumeRunRequest, context: grpc.ServicerContext
    ) -> controller_pb2.Run:
        return self.reads.run(self.manager.resume(request.run_id, request.more_rounds))

    def GetRun(self, request: controller_pb2.RunRef, context: grpc.ServicerContext) -> controller_pb2.Run:
        return self.reads.GetRun(request)

    def ListRuns(
        self, request: controller_pb2.ListRunsRequest, context: grpc.ServicerContext
    ) -> controller_pb2.ListRunsResponse:
        return self.reads.ListRuns(request)

    def WatchRun(
        self, request: controller_pb2.RunRef, context: grpc.ServicerContext
    ) -> Iterator[controller_pb2.RunEvent]:
        for event in self.manager.queries.events(request.run_id, context.is_active):
            yield event_message(event)

    def ListRounds(
        self, request: controller_pb2.RunRef, context: grpc.ServicerContext
    ) -> controller_pb2.ListRoundsResponse:
        return self.reads.ListRounds(request)

    def ListModels(
        self, request: controller_pb2.ListModelsRequest, context: grpc.ServicerContext
    ) -> controller_pb2.ListModelsResponse:
        return self.reads.ListModels(request)

    def ListCandidates(
        self, request: controller_pb2.ListCandidatesRequest, context: grpc.ServicerContext
    ) -> controller_pb2.ListCandidatesResponse:
        return self.reads.ListCandidates(request)

    def RollBack(
        self, request: controller_pb2.RollBackRequest, context: grpc.ServicerContext
    ) -> controller_pb2.ModelVersion:
        return model_message(
            roll_back(self.manager.ctx, request.version, request.force, request.requested_by), None
        )

    def Ask(self, request: controller_pb2.AskRequest, context: grpc.ServicerContext) -> controller_pb2.Answer:
        return self.asker.ask(
            AskIn(
                request.question,
                request.db_id,
                request.version,
                request.samples,
                request.max_rows,
                request.repair_attempts if request.HasField("repair_attempts") else None,
                request.asked_by,
                request.request_id,
                request.on_source,
            )
        )

    def Feedback(
        self, request: controller_pb2.FeedbackRequest, context: grpc.ServicerContext
    ) -> controller_pb2.FeedbackReply:
        require(
            request.verdict in controller_pb2.FeedbackVerdict.values(),
            f"verdict must be right or wrong, got enum value {request.verdict}",
        )
        given = self.feedback.give(
            FeedbackIn(
                request.answer_id,
                enum_text(controller_pb2.FeedbackVerdict, request.verdict),
                request.corrected_sql,
                request.note,
                request.given_by,
            )
        )
        return controller_pb2.FeedbackReply(
            answer_id=given.answer_id,
            verdict=enum_number(controller_pb2.FeedbackVerdict, given.verdict),
            gold_sql=given.gold_sql,
            row_count=given.row_count,
        )
