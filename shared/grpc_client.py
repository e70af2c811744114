"""Client side of every sqldistill call: channels with retries, stubs with deadlines, health waits.

Retries use gRPC's own retry policy (service config), so UNAVAILABLE is retried with
exponential backoff by the channel itself, for every method of every service.
"""

from __future__ import annotations

import json
import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

_RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [
                    {"service": "sqldistill.v1.CriticService"},
                    {"service": "sqldistill.v1.GenerationService"},
                    {"service": "sqldistill.v1.TrainerService"},
                    {"service": "sqldistill.v1.ControllerService"},
                ],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def make_channel(target: str, *, max_message_bytes: int = 64 * 1024 * 1024) -> grpc.Channel:
    """An insecure channel (loopback or in-cluster) that retries UNAVAILABLE with backoff."""
    return grpc.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _RETRY_SERVICE_CONFIG),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ],
    )


class DeadlineStub:
    """Wraps a generated stub so every call carries a deadline unless the caller gives one."""

    def __init__(self, stub: Any, default_timeout: float) -> None:
        self._stub = stub
        self._default_timeout = default_timeout

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)

        def call(request: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            return method(request, timeout=self._default_timeout if timeout is None else timeout, **kwargs)

        call.__name__ = name
        return call


PID_METADATA = "sqldistill-pid"  # trailing metadata every sqldistill server adds to unary replies


def check_health(channel: grpc.Channel, service: str = "", timeout: float = 2.0) -> str:
    """The health status name (SERVING, NOT_SERVING, ...) or UNAVAILABLE if it cannot be reached."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def serving_process(channel: grpc.Channel, timeout: float = 2.0) -> tuple[str, int | None]:
    """(health status, pid of the process that answered): how a launcher confirms that the server on
    a port is the process it started and not a leftover from an earlier start."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply, call = stub.Check.with_call(health_pb2.HealthCheckRequest(), timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code().name, None
    pids = [value for key, value in call.trailing_metadata() or () if key == PID_METADATA]
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status), int(pids[0]) if pids else None


def wait_healthy(channel: grpc.Channel, timeout: float, service: str = "") -> None:
    """Block until the server reports SERVING; TimeoutError with the last status otherwise."""
    deadline = time.monotonic() + timeout
    status = "UNKNOWN"
    while time.monotonic() < deadline:
        status = check_health(channel, service, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
        if status == "SERVING":
            return
        time.sleep(0.1)
    raise TimeoutError(f"not SERVING after {timeout:.0f}s (last status {status})")
