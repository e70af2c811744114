"""Builds the generation server on the shared scaffold.

Its calls are not implemented yet (issue 4): the generated base servicer answers every
call with UNIMPLEMENTED, while health, reflection, metrics and shutdown already work, so the
stack starts, reports health and can be deployed.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.config import Config
from shared.grpc_server import ServiceHost
from shared.pb import generation_pb2, generation_pb2_grpc
from shared.service_main import host_for

SERVICE_NAME = generation_pb2.DESCRIPTOR.services_by_name["GenerationService"].full_name


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    servicer = generation_pb2_grpc.GenerationServiceServicer()
    host = host_for(
        "generation",
        config,
        [SERVICE_NAME],
        lambda server: generation_pb2_grpc.add_GenerationServiceServicer_to_server(servicer, server),
    )
    return host, lambda: None
