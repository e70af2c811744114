"""The sandbox against hostile SQL: every input gets a verdict in time, the pool keeps serving,
and the database file is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import time

import pytest

from services.critic.sandbox import EXHAUSTED, OK, TIMEOUT, Limits, check_statement
from services.critic.sandbox_pool import SandboxPool
from testbed.databases import make_concert_db
from testbed.hostile_sql import HOSTILE

TIMEOUT_MS = 1000


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    db = make_concert_db(folder / "concert.sqlite")
    pool = SandboxPool(workers=2, memory_mb=512)
    yield db, pool
    pool.close()


SLACK_S = 3.0  # beyond the deadline: the two test workers share two cores


def test_corpus_is_large_enough():
    assert len(HOSTILE) >= 60
    assert len({name for name, _, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("name", "sql", "allowed"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_gets_a_verdict_in_time_and_changes_nothing(hostile_setup, name, sql, allowed):
    db, pool = hostile_setup
    before = _digest(db)
    started = time.monotonic()
    outcome = pool.execute(str(db), sql, Limits(timeout_ms=TIMEOUT_MS, max_rows=10_000))
    elapsed = time.monotonic() - started
    assert outcome.status in allowed, (outcome.status, outcome.error)
    # Bounded by the deadline, not by the query (an unbounded one would run until the test's
    # timeout): deadline + 3 s, a kill included (respawn is off-path), with room for a loaded machine.
    assert elapsed < TIMEOUT_MS / 1000 + SLACK_S
    assert _digest(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["concert.sqlite"]  # no journal, no new files
    healthy = pool.execute(str(db), "SELECT count(*) FROM singer", Limits())
    assert healthy.status == OK and healthy.rows == [(30,)]


def test_a_worker_that_overruns_is_killed_and_replaced(hostile_setup):
    db, _ = hostile_setup
    with SandboxPool(workers=1, memory_mb=512, slack_seconds=0.5) as pool:
        # A Python-side stall cannot be interrupted by SQLite's progress handler: simulate a stuck
        # worker by sending a query and giving it no time to answer at all.
        outcome = pool.execute(
            str(db), "SELECT count(*) FROM singer a, singer b, singer c, singer d", Limits(timeout_ms=1)
        )
        assert outcome.status == TIMEOUT
        assert pool.execute(str(db), "SELECT 1", Limits()).rows == [(1,)]


def test_a_worker_that_dies_is_replaced(hostile_setup):
    db, _ = hostile_setup
    with SandboxPool(workers=1, memory_mb=512) as pool:
        worker = pool._idle.queue[0]
        worker.process.kill()
        worker.process.join()
        outcome = pool.execute(str(db), "SELECT 1", Limits())
        assert outcome.status == EXHAUSTED and "died" in outcome.error
        assert pool.replaced == 1
        assert pool.execute(str(db), "SELECT 1", Limits()).rows == [(1,)]


def test_row_cap_truncates_and_byte_cap_refuses(hostile_setup):
    db, pool = hostile_setup
    capped = pool.execute(str(db), "SELECT * FROM concert", Limits(max_rows=5))
    assert capped.status == OK and capped.truncated and len(capped.rows) == 5
    big = pool.execute(
        str(db), "SELECT * FROM concert a, concert b", Limits(max_rows=10_000, max_result_bytes=10_000)
    )
    assert big.status == EXHAUSTED


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT 1;", True),
        ("  -- why\n SELECT 1 ; -- done", True),
        ("/* c */ WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("(SELECT 1)", True),
        ("VALUES (1)", True),
        ("EXPLAIN SELECT 1", False),
        ("DELETE FROM t", False),
    ],
)
def test_statement_policy(sql, ok):
    assert (check_statement(sql) is None) == ok


SLOW_HEAVY_MAIN = """
import sys
import time

time.sleep(3)  # a slow import (torch takes seconds): spawned workers import this module again
ballast = bytearray(1024 * 1024 * 1024)  # and a large one: the memory cap is beyond what is held

from services.critic.sandbox import Limits
from services.critic.sandbox_pool import SandboxPool

if __name__ == "__main__":
    with SandboxPool(workers=1, memory_mb=256) as pool:
        print(pool.execute(sys.argv[1], "SELECT count(*) FROM singer", Limits(timeout_ms=500)).status)
        print(pool.execute(sys.argv[1], "SELECT count(*) FROM singer", Limits(timeout_ms=500)).status)
"""


def test_deadlines_count_from_a_started_worker_under_a_slow_heavy_main_module(tmp_path):
    import subprocess
    import sys

    from shared.config import REPO_ROOT as REPO

    script = tmp_path / "slow_main.py"
    script.write_text(SLOW_HEAVY_MAIN)
    database = make_concert_db(tmp_path / "concert.sqlite")
    done = subprocess.run(
        [sys.executable, str(script), str(database)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [OK, OK]
