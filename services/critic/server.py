"""Builds the critic's server: catalogue + sandbox pool + servicer on the shared scaffold."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from services.critic.logic import Critic
from services.critic.servicer import CriticServicer
from shared.bundled.locate import default_dataset
from shared.catalogue import Catalogue
from shared.config import Config
from shared.grpc_server import ServiceHost
from shared.pb import critic_pb2, critic_pb2_grpc
from shared.service_main import host_for

log = logging.getLogger("sqldistill.critic")


def build_critic(config: Config) -> Critic:
    dataset = Path(config.dataset) if config.dataset else default_dataset(config)
    catalogue = Catalogue.load(dataset)
    log.info("critic: %d databases from %s", len(catalogue.databases), dataset)
    return Critic.from_config(catalogue, config.critic, Path(config.home) / "suites", interactive=True)


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    critic = build_critic(config)
    servicer = CriticServicer(critic)
    host = host_for(
        "critic", config, critic_pb2, servicer, critic_pb2_grpc.add_CriticServiceServicer_to_server
    )
    return host, critic.close
