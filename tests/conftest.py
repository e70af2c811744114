"""Shared fixtures: real SQLite files, free loopback ports, real service processes."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.local_stack import ServiceProcess, spawn_service, stop_process, wait_serving
from tests.dbfactory import make_spider_dir

REPO = Path(__file__).resolve().parent.parent
# The trainer's fixtures (tiny_base, dataset), shared by its integration and service tests.
pytest_plugins = ["tests.training_fixtures"]


TIERS = ("unit", "integration", "service", "e2e")  # tests/<tier>/: selected with -m <tier>


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tier of its folder."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def service_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Services started by tests may load models and read datasets from the session's temporary
    folder (tiny models, fixture datasets), as an operator would configure extra roots. They decode
    with the compact loop: on a GPU `auto` would compile the static loop for every new batch shape
    of the tiny models, costing more than they decode (that loop has its own tests, GPU included)."""
    root = tmp_path_factory.getbasetemp()
    overrides = {
        "SQLDISTILL_PATHS__MODEL_ROOTS": json.dumps([str(root)]),
        "SQLDISTILL_PATHS__DATASET_ROOTS": json.dumps([str(root)]),
        "SQLDISTILL_GENERATION__DECODE_LOOP": "compact",
    }
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real PostgreSQL for the session: the server binaries of the pinned `pgserver` wheel (which
    `make setup` installs; it also runs under root), on a unix socket in a temporary folder."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


def new_postgres_database(server: object) -> str:
    """A fresh, empty database on the session's server; its SQLAlchemy URL (psycopg 3 driver)."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_psycopg(server.get_uri()), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return _psycopg(server.get_uri(name))


def _psycopg(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store on a real SQLite file, then on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return new_postgres_database(request.getfixturevalue("postgres"))


@pytest.fixture(scope="session")
def spider_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_spider_dir(tmp_path_factory.mktemp("spider"))


RunningService = ServiceProcess  # a service process a test started


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


@pytest.fixture(scope="module")
def critic_service(tmp_path_factory: pytest.TempPathFactory, spider_dir: Path) -> Iterator[RunningService]:
    service = start_service("critic", tmp_path_factory.mktemp("critic"), dataset=spider_dir)
    yield service
    stop_service(service)
