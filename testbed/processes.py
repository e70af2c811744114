"""Service processes on loopback: a free port, `python -m services.<name>` started there and waited
for until SERVING, and stopped again."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from cli.local_stack import ServiceProcess, spawn_service, stop_process, wait_serving

RunningService = ServiceProcess  # a service process a test or benchmark started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(
    name: str,
    tmp_path: Path,
    dataset: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> ServiceProcess:
    """Start `python -m services.<name>` on a free loopback port and wait until it is SERVING."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "SQLDISTILL_HOME": str(tmp_path / "home"),
            f"SQLDISTILL_SERVICES__{name.upper()}__PORT": str(port),
            f"SQLDISTILL_SERVICES__{name.upper()}__METRICS_PORT": str(free_port()),
            "SQLDISTILL_CRITIC__WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if dataset:
        env["SQLDISTILL_DATASET"] = str(dataset)
    env.update(extra_env or {})
    service = spawn_service(name, f"127.0.0.1:{port}", env, tmp_path / f"{name}-{port}.log")
    wait_serving(service, timeout)
    return service


def stop_service(service: ServiceProcess) -> None:
    stop_process(service)
