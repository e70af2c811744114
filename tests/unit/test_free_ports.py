"""Test ports: two pytest-xdist workers never hand out the same port (each its own residue class)."""

from __future__ import annotations

import pytest

from testbed.processes import LOWEST_PORT, _ephemeral_low, free_port

pytestmark = pytest.mark.skipif(
    _ephemeral_low() <= LOWEST_PORT + 2, reason="no port range below the ephemeral one: the kernel picks"
)


@pytest.mark.parametrize("worker", [0, 1])
def test_each_worker_picks_ports_of_its_own_class_only(monkeypatch, worker):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    ports = [free_port() for _ in range(20)]
    assert all(port % 2 == worker for port in ports)
    assert len(set(ports)) == len(ports)


def test_outside_xdist_any_port_may_be_picked(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    ports = [free_port() for _ in range(40)]
    assert {port % 2 for port in ports} == {0, 1}  # 40 random ports all one parity: p = 2^-39
