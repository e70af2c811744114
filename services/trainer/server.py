"""Builds the trainer server: store + launchers + job manager + servicer. Jobs left running by a
previous trainer process are relaunched on start (they resume from their checkpoints)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services.trainer.jobs import JobManager
from services.trainer.launchers import DEFAULT_JOB_TEMPLATE, KubernetesLauncher, Launcher, LocalLauncher
from services.trainer.servicer import TrainerServicer
from shared.config import Config
from shared.confine import Roots
from shared.grpc_server import ServiceHost
from shared.pb import trainer_pb2, trainer_pb2_grpc
from shared.service_main import host_for
from shared.store import Store


def build_manager(config: Config) -> JobManager:
    launchers: dict[str, Launcher] = {"local": LocalLauncher(processes=config.trainer.processes_per_job)}
    if config.trainer.launcher == "kubernetes":
        template = Path(config.trainer.job_template) if config.trainer.job_template else DEFAULT_JOB_TEMPLATE
        launchers["kubernetes"] = KubernetesLauncher(
            config.trainer.namespace,
            template,
            image=config.trainer.image,
            processes=config.trainer.processes_per_job,
        )
    store = Store.open(config.resolved_store_url)
    return JobManager(
        store,
        launchers,
        Path(config.home),
        default_launcher=config.trainer.launcher,
        roots=Roots.from_config(config),
        concurrency={"local": config.trainer.max_local_jobs},
    )


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    manager = build_manager(config)
    servicer = TrainerServicer(manager)
    host = host_for(
        "trainer",
        config,
        trainer_pb2,
        servicer,
        trainer_pb2_grpc.add_TrainerServiceServicer_to_server,
        before_ready=manager.recover,
    )
    return host, manager.close
