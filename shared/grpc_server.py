"""The server scaffold every sqldistill service runs on.

It adds what every service needs (ARCHITECTURE.md, "Layers") so each service only writes its servicer:
grpc.health.v1 (NOT_SERVING until the service says it is ready), server reflection,
an interceptor that turns ServiceError into status codes, logs calls and records
Prometheus metrics, and graceful shutdown on SIGTERM/SIGINT (health flips to
NOT_SERVING, in-flight calls get `grace_seconds` to finish).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from shared.errors import ServiceError
from shared.grpc_client import PID_METADATA
from shared.metrics import RPC_LATENCY, RPC_REQUESTS, serve_metrics

log = logging.getLogger("sqldistill.server")


class PortTaken(RuntimeError):
    """A service's gRPC or metrics port is already in use: start-up fails and names it."""


class _Undecodable:
    """What a request that is not a valid message (e.g. a string field that is not UTF-8) decodes to,
    so the call is answered INVALID_ARGUMENT instead of grpc's INTERNAL "Exception deserializing"."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # noqa: BLE001 - answered as INVALID_ARGUMENT by the wrapper
            return _Undecodable(exc)

    return decode


def _reject_undecodable(request: Any, context: grpc.ServicerContext) -> None:
    if isinstance(request, _Undecodable):
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request is not a valid message (string fields must be UTF-8): {type(request.error).__name__}",
        )


class _StatusInterceptor(grpc.ServerInterceptor):
    """Maps exceptions to status codes, logs each call and records metrics."""

    def __init__(self, service: str) -> None:
        self._service = service

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method.rsplit("/", 1)[-1]
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method),
                _tolerant(handler.request_deserializer),
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method),
                _tolerant(handler.request_deserializer),
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(handler.stream_stream, method),
            handler.request_deserializer,
            handler.response_serializer,
        )

    def _fail(self, context: grpc.ServicerContext, method: str, exc: Exception) -> None:
        if isinstance(exc, ServiceError):
            log.info("%s.%s -> %s: %s", self._service, method, exc.code.name, exc)
            context.abort(exc.code, str(exc) or exc.code.name)
        log.exception("%s.%s failed", self._service, method)
        context.abort(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")

    def _record(self, method: str, context: grpc.ServicerContext, started: float, ok: bool) -> None:
        code = context.code()
        if isinstance(code, grpc.StatusCode):
            name = code.name
        elif ok:
            name = "OK"
        else:  # a stream the client cancelled ends with GeneratorExit and no code
            name = "CANCELLED" if not context.is_active() else "UNKNOWN"
        elapsed = time.perf_counter() - started
        RPC_REQUESTS.labels(self._service, method, name).inc()
        RPC_LATENCY.labels(self._service, method).observe(elapsed)
        # Health probes and reflection would drown the log: they are counted, logged at DEBUG.
        level = logging.DEBUG if method in ("Check", "Watch", "ServerReflectionInfo") else logging.INFO
        log.log(level, "%s.%s %s %.1f ms", self._service, method, name, 1000 * elapsed)

    def _wrap_unary(self, behavior: Callable, method: str) -> Callable:
        def wrapper(request: Any, context: grpc.ServicerContext) -> Any:
            started, ok = time.perf_counter(), False
            try:
                context.set_trailing_metadata(((PID_METADATA, str(os.getpid())),))
                _reject_undecodable(request, context)
                response = behavior(request, context)
                ok = True
                return response
            except Exception as exc:  # noqa: BLE001 - every failure becomes a status
                if _already_aborted(context):
                    raise
                self._fail(context, method, exc)
            finally:
                self._record(method, context, started, ok)

        return wrapper

    def _wrap_stream(self, behavior: Callable, method: str) -> Callable:
        def wrapper(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            started, ok = time.perf_counter(), False
            try:
                _reject_undecodable(request, context)
                yield from behavior(request, context)
                ok = True
            except Exception as exc:  # noqa: BLE001
                if _already_aborted(context):
                    raise
                self._fail(context, method, exc)
            finally:
                self._record(method, context, started, ok)

        return wrapper


def _already_aborted(context: grpc.ServicerContext) -> bool:
    # context.abort() sets the code and raises a bare Exception; let that through untouched.
    return context.code() not in (None, grpc.StatusCode.OK)


class ServiceHost:
    """A gRPC server with health, reflection, metrics and graceful shutdown around one servicer."""

    def __init__(
        self,
        name: str,
        full_service_names: Iterable[str],
        add_servicer: Callable[[grpc.Server], None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        metrics_port: int = 0,
        max_workers: int = 16,
        grace_seconds: float = 10.0,
        max_message_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.name = name
        self.grace_seconds = grace_seconds
        self._service_names = list(full_service_names)
        self._metrics_port = metrics_port
        self._host = host
        self._stopped = threading.Event()
        self._drained = threading.Event()
        # Slow start-up work (loading a model) that runs after start() and before SERVING.
        self.before_ready: Callable[[], None] | None = None
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"{name}-rpc"),
            interceptors=[_StatusInterceptor(name)],
            options=[
                # Off: with SO_REUSEPORT a second server on a taken port starts "fine" and the
                # kernel splits connections between the two.
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        add_servicer(self.server)
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        try:
            self.port = self.server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:
            self.port = 0
        if self.port == 0:
            raise PortTaken(f"{name}: cannot listen on {host}:{port}; is another process serving that port?")
        self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)

    def _set_status(self, status: int) -> None:
        self.health.set("", status)
        for service in self._service_names:
            self.health.set(service, status)

    def start(self) -> ServiceHost:
        try:
            serve_metrics(self._metrics_port, self._host)
        except OSError as exc:
            raise PortTaken(
                f"{self.name}: cannot serve metrics on {self._host}:{self._metrics_port} ({exc.strerror})"
            ) from None
        self.server.start()
        log.info(
            "%s listening on %s:%d (metrics port %s)",
            self.name,
            self._host,
            self.port,
            self._metrics_port or "off",
        )
        return self

    def mark_ready(self) -> None:
        """Report SERVING: call once the service can answer (model loaded, pool started...)."""
        self._set_status(health_pb2.HealthCheckResponse.SERVING)
        log.info("%s is SERVING", self.name)

    def stop(self, grace: float | None = None) -> None:
        """Refuse new calls, let in-flight ones finish within the grace period, then stop."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        grace = self.grace_seconds if grace is None else grace
        log.info("%s draining (grace %.1fs)", self.name, grace)
        self.server.stop(grace).wait()
        self._drained.set()
        log.info("%s stopped", self.name)

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: Any) -> None:
            log.info("%s got signal %d", self.name, signum)
            threading.Thread(target=self.stop, name="shutdown", daemon=True).start()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def wait(self) -> None:
        """Block until stop() has drained the server (wakes up regularly so signals are handled)."""
        while not self._drained.wait(timeout=0.5):
            pass


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
