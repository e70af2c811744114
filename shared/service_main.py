"""The common `main` of every service process: config, logging, server start, ready, drain on SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

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


def host_for(
    name: str,
    config: Config,
    pb2: ModuleType,
    servicer: Any,
    add_to_server: Callable[[Any, Any], None],
    before_ready: Callable[[], Any] | None = None,
) -> ServiceHost:
    """The service's host on its configured endpoint with the servicer added (not started): pb2 is the
    service's generated module, whose one service is what reflection and health name."""
    (service,) = pb2.DESCRIPTOR.services_by_name.values()
    endpoint = config.endpoint(name)
    host = ServiceHost(
        name,
        [service.full_name],
        lambda server: add_to_server(servicer, server),
        host=config.host,
        port=endpoint.port,
        metrics_port=endpoint.metrics_port,
        grace_seconds=config.grace_seconds,
    )
    host.before_ready = before_ready
    return host
