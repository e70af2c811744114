"""Running the four services as local processes: start, wait for health, stop cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.config import SERVICE_NAMES, Config
from shared.grpc_client import make_channel, serving_process

# Start order: the controller depends on the other three.
START_ORDER = ("critic", "generation", "trainer", "controller")
assert set(START_ORDER) == set(SERVICE_NAMES)


@dataclass
class ServiceProcess:
    name: str
    target: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def health(self) -> str:
        """SERVING only when the process answering on the port is the one this launcher started."""
        if self.process.poll() is not None:
            return f"EXITED ({self.process.returncode})"
        channel = make_channel(self.target)
        try:
            status, pid = serving_process(channel, timeout=1.0)
        finally:
            channel.close()
        if pid is not None and pid != self.process.pid:
            return f"FOREIGN (pid {pid})"
        return status


def spawn_service(
    name: str, target: str, env: dict[str, str], log_path: Path, own_session: bool = False
) -> ServiceProcess:
    """Start `python -m services.<name>` with this environment, its output appended to log_path: the
    one way a service process is started, by `sqldistill up` and by the tests alike."""
    with open(log_path, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=own_session,
        )
    return ServiceProcess(name, target, process, log_path)


def wait_serving(service: ServiceProcess, timeout: float) -> None:
    """Block until the process started answers SERVING; RuntimeError with its log otherwise."""
    deadline = time.monotonic() + timeout
    status = "UNKNOWN"
    while time.monotonic() < deadline:
        status = service.health()
        if status == "SERVING":
            return
        if status.startswith("EXITED"):
            break
        time.sleep(0.1)
    if service.process.poll() is None:
        service.process.kill()
    raise RuntimeError(f"{service.name} did not become healthy ({status}):\n{service.log()}")


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_process(service: ServiceProcess, grace: float = 20.0) -> None:
    """SIGTERM, wait up to grace seconds for the drain, then SIGKILL."""
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
        try:
            service.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()


class LocalStack:
    """The embedded deployment: one process per service on loopback ports, logs under home/logs."""

    def __init__(self, config: Config, services: tuple[str, ...] = START_ORDER) -> None:
        self.config = config
        self.services = services
        self.processes: list[ServiceProcess] = []

    def start(self, timeout: float = 300.0) -> None:
        """Start every service and wait until all are healthy. The children run in their own
        sessions, so a SIGTERM to this process (a `kill`, a job's end) would not reach them: unless
        the caller handles SIGTERM itself, it becomes SystemExit here, so the caller's `finally:
        stack.stop()` stops them instead of leaving them on their ports."""
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        ):
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        log_dir = Path(self.config.home) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # Children must see the same configuration the CLI resolved (file values included).
        env.update(_config_env(self.config))
        for name in self.services:
            # Own sessions: Ctrl-C reaches the CLI only; it stops the children in order.
            self.processes.append(
                spawn_service(name, self.config.target(name), env, log_dir / f"{name}.log", own_session=True)
            )
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.processes)
        while pending:
            for service in list(pending):
                status = service.health()
                if status == "SERVING":
                    pending.remove(service)
                elif status.startswith("EXITED"):
                    raise RuntimeError(f"{service.name} exited during start; see {service.log_path}")
                elif status.startswith("FOREIGN"):
                    raise RuntimeError(
                        f"{service.name}: {service.target} is answered by another process ({status[8:]}),"
                        " not the one just started; stop it or choose other ports"
                    )
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                raise TimeoutError(f"not healthy after {timeout:.0f}s: {names}")
            time.sleep(0.2)

    def first_exited(self) -> ServiceProcess | None:
        return next((s for s in self.processes if s.process.poll() is not None), None)

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM in reverse start order, wait for draining, then SIGKILL whatever is left."""
        grace = self.config.grace_seconds if grace is None else grace
        for service in reversed(self.processes):
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace + 5
        for service in self.processes:
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()


def _config_env(config: Config) -> dict[str, str]:
    """Every setting the CLI resolved (defaults, file, overrides, environment) as the environment
    variables the children read: a service started from `sqldistill up --config FILE` runs with the
    file's values, not its own defaults. Lists travel as JSON; an unset value does not travel."""
    env: dict[str, str] = {}

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}__{key.upper()}", inner)
        elif isinstance(value, list):
            env[prefix] = json.dumps(value)
        elif isinstance(value, bool):
            env[prefix] = "true" if value else "false"
        elif value is not None:
            env[prefix] = str(value)

    for key, value in config.model_dump(mode="json").items():
        add(f"SQLDISTILL_{key.upper()}", value)
    env["SQLDISTILL_STORE_URL"] = config.resolved_store_url
    return env
