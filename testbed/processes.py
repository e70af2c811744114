"""Service processes on loopback: a free port, `python -m services.<name>` started there and waited
for until SERVING, and stopped again."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

from cli.local_stack import ServiceProcess, spawn_service, stop_process, wait_serving

RunningService = ServiceProcess  # a service process a test or benchmark started


LOWEST_PORT = 20_000
_handed_out: set[int] = set()
_random = random.SystemRandom()  # not the global generator, which tests seed


def _ephemeral_low() -> int:
    """The lowest port the kernel gives outgoing connections as their source port."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _share() -> tuple[int, int]:
    """(this process's index, how many share the range): pytest-xdist workers each pick from their
    own residue class, so two workers never hand out the same port before either binds it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return index % count, count


def free_port() -> int:
    """A loopback port nothing listens on, for a service started later. Picked below the ephemeral
    range: a port the kernel chose there (bind to 0) can be taken as the source port of any outgoing
    connection - a client's, PostgreSQL's - before the service binds it, and the service then fails
    with "address already in use" (seen once in the kill -9 test). Never the same port twice in a
    process, nor in two test workers."""
    low, high = LOWEST_PORT, _ephemeral_low()
    index, count = _share()
    first = low + (index - low) % count  # the lowest port of this worker's residue class
    for _ in range(1_000 if high > first else 0):
        port = _random.randrange(first, high, count)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as sock:  # an unusual range: let the kernel choose
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
