"""Prometheus metrics shared by every service, labelled by service, method and status code."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

RPC_REQUESTS = Counter(
    "sqldistill_rpc_requests_total",
    "gRPC calls handled, by service, method and status code.",
    ["service", "method", "code"],
)
RPC_LATENCY = Histogram(
    "sqldistill_rpc_latency_seconds",
    "gRPC call latency (streams: until the last message), by service and method.",
    ["service", "method"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics over HTTP on port (0 disables it)."""
    if port:
        start_http_server(port, addr=host)
