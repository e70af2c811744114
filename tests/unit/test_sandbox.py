"""The sandbox against hostile SQL: every input gets a verdict in time, the pool keeps serving,
and the database file is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import time

import pytest

from services.critic.sandbox import DENIED, EXHAUSTED, OK, TIMEOUT, Limits, SandboxPool, check_statement
from tests.dbfactory import make_concert_db

TIMEOUT_MS = 1000
BIG = "x" * 10_000_000

# (name, sql, allowed statuses). OK appears only where SQLite may legitimately answer.
HOSTILE = [
    ("attach", "ATTACH DATABASE '/tmp/evil.db' AS evil", {DENIED}),
    ("attach-in-select", "SELECT * FROM singer; ATTACH '/tmp/evil.db' AS evil", {DENIED}),
    ("detach", "DETACH DATABASE main", {DENIED}),
    ("load-extension", "SELECT load_extension('/tmp/evil.so')", {DENIED}),
    ("load-extension-entry", "SELECT load_extension('libc.so.6', 'system')", {DENIED}),
    ("insert", "INSERT INTO singer VALUES (999, 'x', 'y', 1, 1)", {DENIED}),
    ("insert-select", "INSERT INTO singer SELECT * FROM singer", {DENIED}),
    ("update", "UPDATE singer SET age = 0", {DENIED}),
    ("delete", "DELETE FROM singer", {DENIED}),
    ("replace", "REPLACE INTO singer VALUES (1, 'x', 'y', 1, 1)", {DENIED}),
    ("upsert", "INSERT INTO singer VALUES (1,'a','b',1,1) ON CONFLICT DO NOTHING", {DENIED}),
    ("drop-table", "DROP TABLE singer", {DENIED}),
    ("drop-if-exists", "DROP TABLE IF EXISTS concert", {DENIED}),
    ("create-table", "CREATE TABLE evil (a)", {DENIED}),
    ("create-temp-table", "CREATE TEMP TABLE evil AS SELECT * FROM singer", {DENIED}),
    ("create-view", "CREATE VIEW v AS SELECT 1", {DENIED}),
    ("create-index", "CREATE INDEX i ON singer(age)", {DENIED}),
    ("create-trigger", "CREATE TRIGGER t AFTER INSERT ON singer BEGIN DELETE FROM singer; END", {DENIED}),
    ("alter-rename", "ALTER TABLE singer RENAME TO s2", {DENIED}),
    ("alter-add", "ALTER TABLE singer ADD COLUMN evil TEXT", {DENIED}),
    ("pragma-writable-schema", "PRAGMA writable_schema = 1", {DENIED}),
    ("pragma-journal", "PRAGMA journal_mode = DELETE", {DENIED}),
    ("pragma-user-version", "PRAGMA user_version = 7", {DENIED}),
    ("pragma-function", "SELECT * FROM pragma_table_info('singer')", {OK, DENIED}),
    ("pragma-query-only", "PRAGMA query_only = 0", {DENIED}),
    ("vacuum", "VACUUM", {DENIED}),
    ("vacuum-into", "VACUUM INTO '/tmp/stolen.db'", {DENIED}),
    ("reindex", "REINDEX", {DENIED}),
    ("analyze", "ANALYZE", {DENIED}),
    ("begin", "BEGIN IMMEDIATE", {DENIED}),
    ("commit", "COMMIT", {DENIED}),
    ("savepoint", "SAVEPOINT s", {DENIED}),
    ("with-delete", "WITH x AS (SELECT 1) DELETE FROM singer", {DENIED}),
    ("with-insert", "WITH x AS (SELECT 1) INSERT INTO singer SELECT * FROM singer", {DENIED}),
    ("with-update", "WITH x AS (SELECT 1) UPDATE singer SET age = 1", {DENIED}),
    ("multiple-statements", "SELECT 1; SELECT 2", {DENIED}),
    ("multiple-with-drop", "SELECT 1; DROP TABLE singer", {DENIED}),
    ("comment-hidden-drop", "SELECT 1 /* ; */; DROP TABLE singer", {DENIED}),
    ("leading-comment-drop", "/* SELECT */ DROP TABLE singer", {DENIED}),
    ("line-comment-drop", "-- SELECT\nDROP TABLE singer", {DENIED}),
    (
        "unbounded-recursive-cte",
        "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r",
        {TIMEOUT},
    ),
    (
        "recursive-cte-rows",
        "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r",
        {TIMEOUT, EXHAUSTED, OK},
    ),
    (
        "cross-join-huge",
        "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f",
        {TIMEOUT},
    ),
    ("cross-join-rows", "SELECT * FROM concert a, concert b, concert c", {OK, EXHAUSTED}),
    ("randomblob-gigabytes", "SELECT randomblob(2000000000)", {EXHAUSTED}),
    ("zeroblob-gigabytes", "SELECT zeroblob(4000000000)", {EXHAUSTED}),
    ("zeroblob-100mb", "SELECT length(zeroblob(100000000))", {EXHAUSTED}),
    ("printf-huge", "SELECT printf('%.*c', 2000000000, 'x')", {EXHAUSTED, TIMEOUT, "ERROR"}),
    (
        "replace-doubling",
        "WITH RECURSIVE r(s) AS (SELECT 'ab' UNION ALL SELECT s || s FROM r) SELECT max(length(s)) FROM r",
        {EXHAUSTED, TIMEOUT},
    ),
    (
        "group-concat-blowup",
        "SELECT length(group_concat(a.name || b.name || c.name)) FROM singer a, singer b, singer c, singer d",
        {EXHAUSTED, TIMEOUT},
    ),
    ("string-literal-10mb", f"SELECT '{BIG}'", {EXHAUSTED, "ERROR"}),
    ("deep-parentheses", "SELECT " + "(" * 5000 + "1" + ")" * 5000, {"ERROR", EXHAUSTED}),
    ("deep-subqueries", "SELECT " + "(SELECT " * 300 + "1" + ")" * 300, {"ERROR", EXHAUSTED, OK}),
    ("deep-expression", "SELECT " + " + ".join(["1"] * 5000), {"ERROR", EXHAUSTED}),
    ("many-unions", " UNION ".join(["SELECT 1"] * 1000), {"ERROR", EXHAUSTED}),
    ("many-columns", "SELECT " + ", ".join(["1"] * 2000), {"ERROR", EXHAUSTED}),
    ("invalid-utf8", "SELECT 'caf\udce9'", {"ERROR", DENIED, OK}),
    ("nul-byte", "SELECT 1\x00; DROP TABLE singer", {DENIED}),
    ("empty", "", {DENIED}),
    ("whitespace", "   \n\t ", {DENIED}),
    ("only-comment", "-- nothing here", {DENIED}),
    ("syntax-error", "SELEC name FROM singer", {DENIED}),
    ("unknown-table", "SELECT * FROM no_such_table", {"ERROR"}),
    ("sqlite-master-write", "UPDATE sqlite_master SET sql = 'x'", {DENIED}),
    (
        "like-pattern-huge",
        "SELECT count(*) FROM singer WHERE name LIKE '" + "%a" * 5000 + "'",
        {"ERROR", EXHAUSTED},
    ),
    ("regexp-missing", "SELECT * FROM singer WHERE name REGEXP '(a+)+$'", {"ERROR"}),
    ("fts3-tokenizer", "SELECT fts3_tokenizer('simple')", {DENIED, "ERROR"}),
    ("readfile", "SELECT readfile('/etc/passwd')", {DENIED, "ERROR"}),
    ("writefile", "SELECT writefile('/tmp/x', 'y')", {DENIED, "ERROR"}),
    ("temp-schema-read", "SELECT * FROM temp.sqlite_master", {OK, DENIED}),
    ("values-huge", "VALUES " + ", ".join(["(1)"] * 20000), {"ERROR", EXHAUSTED, OK}),
    ("many-distinct-unions", " UNION ".join(["SELECT DISTINCT 1"] * 1000), {"ERROR", EXHAUSTED}),
    (
        "long-in-list",
        "SELECT count(*) FROM singer WHERE age IN (" + ",".join(map(str, range(20000))) + ")",
        {OK, "ERROR", EXHAUSTED},
    ),
    (
        "columns-3000",
        "SELECT " + ", ".join(f"age AS c{i}" for i in range(3000)) + " FROM singer",
        {"ERROR", EXHAUSTED},
    ),
    (
        "case-3000-branches",
        "SELECT CASE age " + " ".join(f"WHEN {i} THEN {i}" for i in range(3000)) + " END FROM singer",
        {OK, "ERROR", EXHAUSTED},
    ),
    ("printf-billion", "SELECT printf('%.*c', 1000000000, 'x')", {EXHAUSTED, TIMEOUT, "ERROR"}),
    ("lone-surrogate-identifier", "SELECT \ud800 FROM singer", {"ERROR", DENIED}),
]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    db = make_concert_db(folder / "concert.sqlite")
    pool = SandboxPool(workers=2, memory_mb=512)
    yield db, pool
    pool.close()


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
    assert elapsed < TIMEOUT_MS / 1000 + 1.0  # deadline + 1 s, a kill included (respawn is off-path)
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

from services.critic.sandbox import Limits, SandboxPool

if __name__ == "__main__":
    with SandboxPool(workers=1, memory_mb=256) as pool:
        print(pool.execute(sys.argv[1], "SELECT count(*) FROM singer", Limits(timeout_ms=500)).status)
        print(pool.execute(sys.argv[1], "SELECT count(*) FROM singer", Limits(timeout_ms=500)).status)
"""


def test_deadlines_count_from_a_started_worker_under_a_slow_heavy_main_module(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

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
