"""How the controller calls another service: a round's step retries with backoff while the service
restarts (longer than the channel's own retries cover) and gives up when its run is stopped; a
person's call (ask) is tried once and a failure becomes one service error naming what failed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import grpc

from shared import errors

log = logging.getLogger("sqldistill.controller")
T = TypeVar("T")
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)


class Caller(Protocol):
    """Makes one call of a service (`what` names it in logs and errors)."""

    def __call__(self, call: Callable[[], T], what: str) -> T: ...


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


def retrying(should_stop: Callable[[], bool] = lambda: False) -> Caller:
    """A round's caller: with_retry, giving up when should_stop() says the run was stopped."""

    def call(fn: Callable[[], T], what: str) -> T:
        return with_retry(fn, what, should_stop=should_stop)

    return call
