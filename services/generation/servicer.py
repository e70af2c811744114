"""The generation service's gRPC servicer: message translation around services.generation.logic."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.generation.backends import ModelInfo, ModelSpec, Sampling
from services.generation.logic import Generator, QuestionIn
from shared.pb import common_pb2, generation_pb2, generation_pb2_grpc
from shared.prompts import STOP_SEQUENCES


def sampling_from(message: common_pb2.SamplingParams, default_temperature: float = 0.0) -> Sampling:
    has = message.ByteSize() > 0
    return Sampling(
        temperature=message.temperature if has else default_temperature,
        top_p=message.top_p or 1.0,
        max_new_tokens=message.max_new_tokens or 128,
        seed=message.seed,
        stop=tuple(dict.fromkeys([*STOP_SEQUENCES, *message.stop])),
    )


def info_message(info: ModelInfo) -> generation_pb2.ModelInfo:
    return generation_pb2.ModelInfo(
        version=info.version,
        path=info.path,
        adapter_path=info.adapter_path,
        backend=info.backend,
        device=info.device,
        num_parameters=info.num_parameters,
        context_window=info.context_window,
    )


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
            sampling_from(request.sampling, 0.8),
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
            )

    def GenerateSql(
        self, request: generation_pb2.GenerateSqlRequest, context: grpc.ServicerContext
    ) -> generation_pb2.GenerateSqlResponse:
        questions = [QuestionIn(q.id or str(i), q.db_id, q.question) for i, q in enumerate(request.questions)]
        results = self.generator.generate_sql(
            questions,
            request.n,
            request.few_shot_k if request.HasField("few_shot_k") else None,
            sampling_from(request.sampling),
        )
        return generation_pb2.GenerateSqlResponse(
            results=[
                generation_pb2.SqlCandidates(question_id=r.question_id, sql=r.sql, dropped=r.dropped)
                for r in results
            ],
            model_version=self.generator.describe().version,
        )

    def LoadModel(
        self, request: generation_pb2.LoadModelRequest, context: grpc.ServicerContext
    ) -> generation_pb2.ModelInfo:
        model = request.model
        return info_message(
            self.generator.load_model(ModelSpec(model.path, model.adapter_path, model.version))
        )

    def DescribeModel(
        self, request: generation_pb2.DescribeModelRequest, context: grpc.ServicerContext
    ) -> generation_pb2.ModelInfo:
        return info_message(self.generator.describe())
