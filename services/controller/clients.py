"""The controller's view of the other services: gRPC stubs with deadlines, and a retry loop with
backoff for a service that is restarting (longer than the channel's own retries cover)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

from shared.config import Config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import critic_pb2_grpc, generation_pb2_grpc, trainer_pb2_grpc

log = logging.getLogger("sqldistill.controller")
T = TypeVar("T")
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)


@dataclass
class ServiceClients:
    critic: DeadlineStub
    generation: DeadlineStub
    trainer: DeadlineStub

    @classmethod
    def connect(cls, config: Config) -> ServiceClients:
        deadline = config.default_deadline_seconds
        return cls(
            critic=DeadlineStub(
                critic_pb2_grpc.CriticServiceStub(make_channel(config.target("critic"))), deadline
            ),
            generation=DeadlineStub(
                generation_pb2_grpc.GenerationServiceStub(make_channel(config.target("generation"))),
                deadline * 20,
            ),
            trainer=DeadlineStub(
                trainer_pb2_grpc.TrainerServiceStub(make_channel(config.target("trainer"))), deadline
            ),
        )


def with_retry(
    call: Callable[[], T],
    what: str,
    attempts: int = 12,
    first_delay: float = 0.5,
    max_delay: float = 15.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> T:
    """call(), retried with exponential backoff while the service is unavailable (restarting)."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as exc:
            if exc.code() not in RETRYABLE or attempt == attempts or should_stop():
                raise
            log.warning(
                "%s: %s (%s); retry %d/%d in %.1fs",
                what,
                exc.code().name,
                exc.details(),
                attempt,
                attempts,
                delay,
            )
            time.sleep(delay)
            delay = min(max_delay, delay * 2)
    raise AssertionError("unreachable")


def passed_on(call: Callable[[], T], what: str) -> T:
    """call() once, for a caller who waits (ask): a failure of the service behind becomes the
    matching service error, naming what failed, instead of an INTERNAL with a traceback."""
    from shared import errors

    try:
        return call()
    except grpc.RpcError as exc:
        kind = {
            grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
            grpc.StatusCode.DEADLINE_EXCEEDED: errors.DeadlineExceeded,
            grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
            grpc.StatusCode.NOT_FOUND: errors.NotFound,
            grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
            grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
        }.get(exc.code(), errors.ServiceError)
        details = (exc.details() or "").splitlines()[0] if exc.details() else ""
        raise kind(f"{what}: {exc.code().name}: {details}") from None
