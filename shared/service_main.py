"""The common `main` of every service process: config, logging, server start, ready, drain on SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable

from shared.config import Config, load_config
from shared.grpc_server import PortTaken, ServiceHost, configure_logging

log = logging.getLogger("sqldistill")

# A builder returns the host (servicer added, not started) and a cleanup run after draining.
Builder = Callable[[Config], tuple[ServiceHost, Callable[[], None]]]


def run_service(name: str, build: Builder, config: Config | None = None) -> None:
    configure_logging()
    config = config or load_config()
    log.info("%s starting with config %s", name, json.dumps(config.redacted(), sort_keys=True))
    try:
        host, cleanup = build(config)
    except PortTaken as exc:
        log.error("%s", exc)
        sys.exit(f"{exc}")
    host.install_signal_handlers()
    try:
        host.start()
    except PortTaken as exc:
        log.error("%s", exc)
        cleanup()
        sys.exit(f"{exc}")
    if host.before_ready is not None:  # slow start-up work runs with the port open and health NOT_SERVING
        host.before_ready()
    host.mark_ready()
    try:
        host.wait()
    finally:
        cleanup()
    # The grace period is over: calls still running (a long generate() in a worker thread) are
    # abandoned rather than waited for at interpreter exit, so SIGTERM always ends the process.
    logging.shutdown()
    os._exit(0)


def host_for(name: str, config: Config, full_service_names: list[str], add_servicer) -> ServiceHost:
    endpoint = config.endpoint(name)
    return ServiceHost(
        name,
        full_service_names,
        add_servicer,
        host=config.host,
        port=endpoint.port,
        metrics_port=endpoint.metrics_port,
        grace_seconds=config.grace_seconds,
    )
