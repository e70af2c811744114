"""The shared server scaffold, exercised through real gRPC servers on loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from cli.local_stack import LocalStack, ServiceProcess
from shared import errors
from shared.config import load_config
from shared.grpc_client import DeadlineStub, check_health, make_channel, wait_healthy
from shared.grpc_server import PortTaken, ServiceHost
from shared.pb import critic_pb2, critic_pb2_grpc
from testbed.processes import free_port, start_service, stop_service

SLOW_SQL = (
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r WHERE x < 6000000) SELECT count(*) FROM r"
)


class RaisingCritic(critic_pb2_grpc.CriticServiceServicer):
    """A servicer whose Execute raises the error named in the SQL field, to test the status mapping."""

    def Execute(self, request, context):
        error = {
            "invalid": errors.InvalidArgument("sql is required"),
            "missing": errors.NotFound("unknown database 'x'"),
            "precondition": errors.FailedPrecondition("dataset hash mismatch"),
            "exhausted": errors.ResourceExhausted("too many candidates"),
            "deadline": errors.DeadlineExceeded("took too long"),
            "bug": ZeroDivisionError("division by zero"),
        }[request.sql]
        raise error

    def JudgeCandidates(self, request, context):
        yield critic_pb2.Verdict(candidate_id="first")
        raise errors.InvalidArgument("second candidate is malformed")


@pytest.fixture
def in_process_host():
    metrics_port = free_port()
    host = ServiceHost(
        "test-critic",
        ["sqldistill.v1.CriticService"],
        lambda server: critic_pb2_grpc.add_CriticServiceServicer_to_server(RaisingCritic(), server),
        port=0,
        metrics_port=metrics_port,
        grace_seconds=1,
    )
    host.metrics_port = metrics_port
    host.start()
    yield host
    host.stop(0)


def test_health_is_not_serving_until_ready(in_process_host):
    channel = make_channel(f"127.0.0.1:{in_process_host.port}")
    assert check_health(channel) == "NOT_SERVING"
    assert check_health(channel, "sqldistill.v1.CriticService") == "NOT_SERVING"
    in_process_host.mark_ready()
    assert check_health(channel) == "SERVING"
    assert check_health(channel, "sqldistill.v1.CriticService") == "SERVING"
    assert check_health(channel, "no.such.Service") == "NOT_FOUND"


@pytest.mark.parametrize(
    ("trigger", "code", "message"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "sql is required"),
        ("missing", grpc.StatusCode.NOT_FOUND, "unknown database 'x'"),
        ("precondition", grpc.StatusCode.FAILED_PRECONDITION, "dataset hash mismatch"),
        ("exhausted", grpc.StatusCode.RESOURCE_EXHAUSTED, "too many candidates"),
        ("deadline", grpc.StatusCode.DEADLINE_EXCEEDED, "took too long"),
        ("bug", grpc.StatusCode.INTERNAL, "ZeroDivisionError: division by zero"),
    ],
)
def test_exceptions_map_to_status_codes(in_process_host, trigger, code, message):
    stub = critic_pb2_grpc.CriticServiceStub(make_channel(f"127.0.0.1:{in_process_host.port}"))
    with pytest.raises(grpc.RpcError) as info:
        stub.Execute(critic_pb2.ExecuteRequest(sql=trigger), timeout=5)
    assert info.value.code() == code
    assert info.value.details() == message


def test_stream_error_after_messages_keeps_the_messages_and_the_status(in_process_host):
    stub = critic_pb2_grpc.CriticServiceStub(make_channel(f"127.0.0.1:{in_process_host.port}"))
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for verdict in stub.JudgeCandidates(critic_pb2.JudgeRequest(), timeout=5):
            received.append(verdict.candidate_id)
    assert received == ["first"]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_metrics_count_calls_by_method_and_code(in_process_host):
    stub = critic_pb2_grpc.CriticServiceStub(make_channel(f"127.0.0.1:{in_process_host.port}"))
    for _ in range(2):
        with pytest.raises(grpc.RpcError):
            stub.Execute(critic_pb2.ExecuteRequest(sql="invalid"), timeout=5)
    body = (
        urllib.request.urlopen(f"http://127.0.0.1:{in_process_host.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    line = next(
        line
        for line in body.splitlines()
        if line.startswith("sqldistill_rpc_requests_total{")
        and 'service="test-critic"' in line
        and 'method="Execute"' in line
        and 'code="INVALID_ARGUMENT"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "sqldistill_rpc_latency_seconds_bucket" in body


def test_deadline_stub_applies_default_deadline(in_process_host):
    in_process_host.mark_ready()
    channel = make_channel(f"127.0.0.1:{in_process_host.port}")
    health = DeadlineStub(health_pb2_grpc.HealthStub(channel), default_timeout=0.001)
    # A 1 ms default deadline is too short for a Watch stream's first message to matter; a Check may
    # or may not make it, but the deadline must be set: a Watch that never ends must expire.
    stream = health.Watch(health_pb2.HealthCheckRequest(service=""))
    with pytest.raises(grpc.RpcError) as info:
        for _ in stream:
            pass
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_wait_healthy_times_out_on_a_dead_port():
    channel = make_channel(f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="not SERVING"):
        wait_healthy(channel, timeout=1.0)
    assert time.monotonic() - started < 10


# --- the real critic process -----------------------------------------------------------------


def test_reflection_lists_the_service(critic_service):
    database = ProtoReflectionDescriptorDatabase(make_channel(critic_service.target))
    services = set(database.get_services())
    assert {"sqldistill.v1.CriticService", "grpc.health.v1.Health"} <= services
    descriptor = database.FindFileContainingSymbol("sqldistill.v1.CriticService")
    assert descriptor.name == "sqldistill/v1/critic.proto"


def test_malformed_requests_get_invalid_argument_with_a_message(critic_service):
    stub = critic_pb2_grpc.CriticServiceStub(make_channel(critic_service.target))
    cases = [
        (
            critic_pb2.ExecuteRequest(db_id="concert", sql="SELECT 1", max_rows=-1),
            grpc.StatusCode.INVALID_ARGUMENT,
            "max_rows",
        ),
        (
            critic_pb2.ExecuteRequest(db_id="", sql="SELECT 1"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "db_id is required",
        ),
        (
            critic_pb2.ExecuteRequest(db_id="concert", sql="SELECT 1", timeout_ms=-5),
            grpc.StatusCode.INVALID_ARGUMENT,
            "timeout_ms",
        ),
        (
            critic_pb2.ExecuteRequest(db_id="nope", sql="SELECT 1"),
            grpc.StatusCode.NOT_FOUND,
            "unknown database 'nope'",
        ),
    ]
    for request, code, message in cases:
        with pytest.raises(grpc.RpcError) as info:
            stub.Execute(request, timeout=10)
        assert info.value.code() == code, request
        assert message in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        list(stub.JudgeCandidates(critic_pb2.JudgeRequest(), timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "candidates is empty" in info.value.details()


def test_sigterm_drains_in_flight_calls(tmp_path, spider_dir):
    service = start_service("critic", tmp_path, dataset=spider_dir)
    try:
        stub = critic_pb2_grpc.CriticServiceStub(make_channel(service.target))
        result: dict = {}

        def slow_call() -> None:
            try:
                result["reply"] = stub.Execute(
                    critic_pb2.ExecuteRequest(db_id="concert", sql=SLOW_SQL, timeout_ms=20000), timeout=30
                )
            except grpc.RpcError as exc:  # pragma: no cover - reported by the assertion below
                result["error"] = exc

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.5)  # the call is in flight inside the sandbox
        service.process.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        assert "error" not in result, result.get("error")
        reply = result["reply"]
        assert reply.status == critic_pb2.EXECUTION_STATUS_OK
        assert reply.result.rows[0].values[0].integer == 6_000_000
        assert service.process.wait(timeout=30) == 0
        assert "draining" in service.log()
        with pytest.raises(grpc.RpcError) as info:  # nothing listens any more
            stub.Execute(critic_pb2.ExecuteRequest(db_id="concert", sql="SELECT 1"), timeout=2)
        assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    finally:
        stop_service(service)


def test_a_request_that_is_not_valid_utf8_gets_invalid_argument(critic_service):
    """Protobuf strings must be UTF-8: a lone surrogate sent as raw bytes is refused with a message,
    not answered INTERNAL, and the service keeps serving."""
    raw = critic_pb2.ExecuteRequest(db_id="concert", sql="SELECT 'PLACEHOLDER'").SerializeToString()
    raw = raw.replace(b"PLACEHOLDER", b"caf\xed\xb3\xa9xxxxx")  # same length: the framing stays valid
    channel = make_channel(critic_service.target)
    execute = channel.unary_unary(
        "/sqldistill.v1.CriticService/Execute",
        request_serializer=lambda data: data,
        response_deserializer=critic_pb2.ExecuteResponse.FromString,
    )
    with pytest.raises(grpc.RpcError) as info:
        execute(raw, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UTF-8" in info.value.details()
    assert check_health(channel) == "SERVING"


def test_a_second_service_on_a_taken_port_fails_start_up_naming_the_port(
    critic_service, tmp_path, spider_dir
):
    taken = int(critic_service.target.rsplit(":", 1)[1])
    with pytest.raises(PortTaken, match=f"127.0.0.1:{taken}"):
        ServiceHost("second", [], lambda server: None, port=taken)
    env = dict(os.environ)
    env.update(
        {
            "SQLDISTILL_HOME": str(tmp_path / "home"),
            "SQLDISTILL_DATASET": str(spider_dir),
            "SQLDISTILL_SERVICES__CRITIC__PORT": str(taken),
            "SQLDISTILL_SERVICES__CRITIC__METRICS_PORT": str(free_port()),
        }
    )
    second = subprocess.run(
        [sys.executable, "-m", "services.critic"], env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode != 0 and f"cannot listen on 127.0.0.1:{taken}" in second.stderr
    assert critic_service.process.poll() is None


def test_the_local_stack_refuses_a_leftover_server_on_its_port(critic_service, tmp_path, spider_dir):
    """A leftover critic answers on the port: the stack's own critic exits, and start fails naming
    the other process instead of reporting "services up" against the wrong server."""
    taken = int(critic_service.target.rsplit(":", 1)[1])
    config = load_config(home=tmp_path / "home", dataset=spider_dir)
    config.endpoint("critic").port = taken
    config.endpoint("critic").metrics_port = free_port()
    stack = LocalStack(config, services=("critic",))
    with pytest.raises(RuntimeError, match="critic(: .* another process| exited during start)"):
        stack.start(timeout=60)
    stack.stop(0)
    assert critic_service.process.poll() is None


def test_a_foreign_process_on_the_port_is_told_apart_from_the_started_one(critic_service):
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        service = ServiceProcess("critic", critic_service.target, stand_in, Path("critic.log"))
        assert service.health() == f"FOREIGN (pid {critic_service.process.pid})"
        own = ServiceProcess("critic", critic_service.target, critic_service.process, Path("critic.log"))
        assert own.health() == "SERVING"
    finally:
        stand_in.kill()


LAUNCHER = """
import sys, time
from cli.local_stack import LocalStack
from shared.config import load_config
config = load_config()
stack = LocalStack(config, services=("critic",))
try:
    stack.start(timeout=60)
    print(stack.processes[0].process.pid, flush=True)
    time.sleep(120)
finally:
    stack.stop(5)
"""


def test_a_sigterm_to_the_launcher_stops_the_services_it_started(tmp_path, spider_dir):
    """Services run in their own sessions (Ctrl-C reaches the launcher only): a `kill` of a script
    that started a stack must still stop them, not leave them holding their ports."""
    env = dict(os.environ)
    env.update(
        {
            "SQLDISTILL_HOME": str(tmp_path / "home"),
            "SQLDISTILL_DATASET": str(spider_dir),
            "SQLDISTILL_SERVICES__CRITIC__PORT": str(free_port()),
            "SQLDISTILL_SERVICES__CRITIC__METRICS_PORT": str(free_port()),
        }
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    critic_pid = 0
    try:
        critic_pid = int(launcher.stdout.readline())
        os.kill(critic_pid, 0)  # the critic is running
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) == 128 + signal.SIGTERM
        with pytest.raises(ProcessLookupError):
            os.kill(critic_pid, 0)
    finally:
        launcher.kill()
        if critic_pid:  # a critic left behind is this test's to clean up
            with contextlib.suppress(ProcessLookupError):
                os.kill(critic_pid, signal.SIGKILL)
