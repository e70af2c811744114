"""The generation service's gRPC servicer: message translation around services.generation.logic."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.generation.backends import ModelInfo, ModelSpec
from services.generation.logic import Generator
from services.generation.requests import QuestionIn
from services.generation.slots import SERVING, WORK
from shared import defaults
from shared.errors import InvalidArgument
from shared.pb import generation_pb2, generation_pb2_grpc
from shared.pbconvert import message_from, sampling_from_message

SLOT_NAMES = {generation_pb2.MODEL_SLOT_SERVING: SERVING, generation_pb2.MODEL_SLOT_WORK: WORK}


def slot_name(slot: int) -> str:
    if slot not in SLOT_NAMES:
        raise InvalidArgument(f"unknown model slot {slot}")
    return SLOT_NAMES[slot]


def info_message(info: ModelInfo, slot: int = generation_pb2.MODEL_SLOT_SERVING) -> generation_pb2.ModelInfo:
    return message_from(generation_pb2.ModelInfo, info, slot=slot)


class GenerationServicer(generation_pb2_grpc.GenerationServiceServicer):
    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def GeneratePairs(
        self, request: generation_pb2.GeneratePairsRequest, context: grpc.ServicerContext
    ) -> Iterator[generation_pb2.GeneratedPair]:
        pairs = self.generator.generate_pairs(
            request.db_id,
            request.n,
            request.hardness,
            request.few_shot_k if request.HasField("few_shot_k") else None,
            sampling_from_message(request.sampling, defaults.PAIR_TEMPERATURE),
            slot_name(request.slot),
            [tuple(f.tables) for f in request.focus],
            list(request.levels),
            request.constrain if request.HasField("constrain") else None,
        )
        for pair in pairs:
            if not context.is_active():  # the client cancelled: stop generating
                return
            yield generation_pb2.GeneratedPair(
                db_id=pair.db_id,
                question=pair.question,
                sql=pair.sql,
                hardness=pair.hardness,
                model_version=pair.model_version,
                constrain=pair.constrain,
            )

    def GenerateSql(
        self, request: generation_pb2.GenerateSqlRequest, context: grpc.ServicerContext
    ) -> generation_pb2.GenerateSqlResponse:
        questions = [
            QuestionIn(q.id or str(i), q.db_id, q.question, q.evidence, q.failed_sql, q.error)
            for i, q in enumerate(request.questions)
        ]
        constrain = request.constrain if request.HasField("constrain") else None
        results, version = self.generator.generate_sql(
            questions,
            request.n,
            request.few_shot_k if request.HasField("few_shot_k") else None,
            sampling_from_message(request.sampling),
            slot_name(request.slot),
            constrain,
            request.example_sets,
        )
        return generation_pb2.GenerateSqlResponse(
            results=[
                generation_pb2.SqlCandidates(question_id=r.question_id, sql=r.sql, dropped=r.dropped)
                for r in results
            ],
            model_version=version,
            constrain=results[0].constrain,  # one strength per request
        )

    def LoadModel(
        self, request: generation_pb2.LoadModelRequest, context: grpc.ServicerContext
    ) -> generation_pb2.ModelInfo:
        model = request.model
        info = self.generator.load_model(
            ModelSpec(model.path, model.adapter_path, model.version, request.precision),
            slot_name(request.slot),
        )
        return info_message(info, request.slot)

    def ReviewSql(
        self, request: generation_pb2.ReviewSqlRequest, context: grpc.ServicerContext
    ) -> generation_pb2.ReviewSqlResponse:
        logprobs, version = self.generator.review(
            request.db_id,
            request.question,
            list(request.sql),
            request.few_shot_k if request.HasField("few_shot_k") else None,
            slot_name(request.slot),
        )
        return generation_pb2.ReviewSqlResponse(logprob=logprobs, model_version=version)

    def DescribeModel(
        self, request: generation_pb2.DescribeModelRequest, context: grpc.ServicerContext
    ) -> generation_pb2.ModelInfo:
        return info_message(self.generator.describe(slot_name(request.slot)), request.slot)
