"""Exceptions that service logic raises; the server interceptor maps each to a gRPC status.

Logic stays free of grpc imports and is testable on its own; the mapping lives in one place.
"""

from __future__ import annotations

import grpc


class ServiceError(Exception):
    """Base class: a failure the caller should see with a specific status and message."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE


def require(condition: bool, message: str) -> None:
    """Raise InvalidArgument(message) unless condition holds: terse request validation."""
    if not condition:
        raise InvalidArgument(message)
