"""Builds the controller server: store, catalogue, clients of the other services, rollout, runs.
Runs that were running when the controller stopped resume on start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services.controller.calls import retrying
from services.controller.clients import ServiceClients
from services.controller.deployment import EmbeddedRollout, KubernetesRollout, Rollout
from services.controller.log_metrics import watch_log_size
from services.controller.runs import RunManager
from services.controller.servicer import ControllerServicer
from services.controller.steps.base import Context
from shared.bundled.locate import default_dataset
from shared.catalogue import Catalogue
from shared.config import Config
from shared.grpc_server import ServiceHost
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.service_main import host_for
from shared.store import Store


def build_manager(config: Config) -> RunManager:
    store = Store.open(config.resolved_store_url)
    watch_log_size(store)
    catalogue = Catalogue.load(Path(config.dataset) if config.dataset else default_dataset(config))
    clients = ServiceClients.connect(config)
    generation = clients.typed(retrying()).generation
    rollout: Rollout
    if config.controller.rollout == "kubernetes":
        rollout = KubernetesRollout(
            config.controller.namespace, config.controller.serving_selector, generation
        )
    else:
        rollout = EmbeddedRollout(generation)
    return RunManager(
        Context(
            store, clients, catalogue, Path(config.home), rollout, record_asks=config.controller.record_asks
        )
    )


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    manager = build_manager(config)
    servicer = ControllerServicer(manager)
    host = host_for(
        "controller",
        config,
        controller_pb2,
        servicer,
        controller_pb2_grpc.add_ControllerServiceServicer_to_server,
        before_ready=manager.recover,
    )
    return host, manager.close
