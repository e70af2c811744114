"""Shared fixtures: real SQLite files, free loopback ports, real service processes."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import REPO_ROOT
from testbed.databases import make_spider_dir
from testbed.processes import RunningService, start_service, stop_service
from tests.support.postgres import new_postgres_database

REPO = REPO_ROOT
# The trainer's fixtures (tiny_base, dataset), shared by its integration and service tests; the
# packaged models, assembled and converted once per run (packaged_models).
pytest_plugins = ["tests.support.training_fixtures", "tests.support.packaged_models"]


TIERS = ("unit", "integration", "service", "e2e")  # tests/<tier>/: selected with -m <tier>


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tier of its folder."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


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

    # pgserver creates its system user (under root) outside its own lock: two test workers starting
    # at once on a fresh machine would both try. The workers' temporary folders share this parent.
    with open(tmp_path_factory.getbasetemp().parent / "pgserver.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store on a real SQLite file, then on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return new_postgres_database(request.getfixturevalue("postgres"))


@pytest.fixture(scope="session")
def spider_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_spider_dir(tmp_path_factory.mktemp("spider"))


@pytest.fixture(scope="module")
def critic_service(tmp_path_factory: pytest.TempPathFactory, spider_dir: Path) -> Iterator[RunningService]:
    service = start_service("critic", tmp_path_factory.mktemp("critic"), dataset=spider_dir)
    yield service
    stop_service(service)
