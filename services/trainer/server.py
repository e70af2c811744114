"""Builds the trainer server on the shared scaffold.

Its calls are not implemented yet (issue 5): the generated base servicer answers every
call with UNIMPLEMENTED, while health, reflection, metrics and shutdown already work, so the
stack starts, reports health and can be deployed.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.config import Config
from shared.grpc_server import ServiceHost
from shared.pb import trainer_pb2, trainer_pb2_grpc
from shared.service_main import host_for

SERVICE_NAME = trainer_pb2.DESCRIPTOR.services_by_name["TrainerService"].full_name


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    servicer = trainer_pb2_grpc.TrainerServiceServicer()
    host = host_for(
        "trainer",
        config,
        [SERVICE_NAME],
        lambda server: trainer_pb2_grpc.add_TrainerServiceServicer_to_server(servicer, server),
    )
    return host, lambda: None
