"""The controller's connections to the other services (stubs with deadlines), and the typed clients
over them for a caller's policy: a round's steps retry (services.controller.calls.retrying), a
person's ask is tried once (calls.passed_on)."""

from __future__ import annotations

from dataclasses import dataclass

from services.controller.calls import Caller
from services.controller.critic_client import CriticClient
from services.controller.generation_client import GenerationClient
from services.controller.trainer_client import TrainerClient
from shared.config import Config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import critic_pb2_grpc, generation_pb2_grpc, trainer_pb2_grpc

GENERATION_DEADLINE_FACTOR = 20  # a generation call decodes a chunk of questions: longer than others


@dataclass
class ServiceClients:
    critic: DeadlineStub
    generation: DeadlineStub
    trainer: DeadlineStub

    @classmethod
    def connect(cls, config: Config) -> ServiceClients:
        deadline = config.default_deadline_seconds
        return cls(
            critic=DeadlineStub(
                critic_pb2_grpc.CriticServiceStub(make_channel(config.target("critic"))), deadline
            ),
            generation=DeadlineStub(
                generation_pb2_grpc.GenerationServiceStub(make_channel(config.target("generation"))),
                deadline * GENERATION_DEADLINE_FACTOR,
            ),
            trainer=DeadlineStub(
                trainer_pb2_grpc.TrainerServiceStub(make_channel(config.target("trainer"))), deadline
            ),
        )

    def typed(self, call: Caller) -> TypedClients:
        return TypedClients(
            GenerationClient(self.generation, call),
            CriticClient(self.critic, call),
            TrainerClient(self.trainer, call),
        )


@dataclass(frozen=True)
class TypedClients:
    generation: GenerationClient
    critic: CriticClient
    trainer: TrainerClient
