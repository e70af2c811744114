"""Builds the controller server on the shared scaffold.

Its calls are not implemented yet (issue 6): the generated base servicer answers every
call with UNIMPLEMENTED, while health, reflection, metrics and shutdown already work, so the
stack starts, reports health and can be deployed.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.config import Config
from shared.grpc_server import ServiceHost
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.service_main import host_for

SERVICE_NAME = controller_pb2.DESCRIPTOR.services_by_name["ControllerService"].full_name


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    servicer = controller_pb2_grpc.ControllerServiceServicer()
    host = host_for(
        "controller",
        config,
        [SERVICE_NAME],
        lambda server: controller_pb2_grpc.add_ControllerServiceServicer_to_server(servicer, server),
    )
    return host, lambda: None
