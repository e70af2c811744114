"""Confining one untrusted SQL query: the statement policy, a read-only immutable connection with an
authorizer and lowered SQLite limits, and the deadline (sandbox_pool.py runs it in worker processes).

Defence in depth, because model-written SQL is hostile input:
1. a statement policy: one statement, and it must start as a query (SELECT / WITH / VALUES);
2. the database is opened read-only and immutable, extension loading is off;
3. an authorizer allows reading only (no ATTACH, writes, DDL, PRAGMA, transactions);
4. SQLite limits are lowered (string length, SQL length, columns, depth, compounds, attached=0),
   a hard heap limit caps SQLite's memory and a progress handler enforces the deadline;
5. each query runs in a worker process of the pool (sandbox_pool.py) with RLIMIT_AS.

This module imports only the standard library: it is what `spawn` loads in every worker.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from shared import defaults

OK, ERROR, DENIED, TIMEOUT, EXHAUSTED = "OK", "ERROR", "DENIED", "TIMEOUT", "RESOURCE_EXHAUSTED"

_ALLOWED_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(\*/|$)", re.DOTALL)
_QUERY_START = re.compile(r"^\s*(\(\s*)*(select|with|values)\b", re.IGNORECASE)

# SQLite run-time limits for every sandboxed connection: generous for real queries, far below harm.
_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,  # largest string/blob a query can build
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_VDBE_OP: 250_000,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 0,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
}


@dataclass(frozen=True)
class Limits:
    timeout_ms: int = defaults.QUERY_TIMEOUT_MS
    max_rows: int = defaults.MAX_RESULT_ROWS
    max_result_bytes: int = defaults.MAX_RESULT_BYTES


@dataclass
class Outcome:
    """What happened to one query: status, SQLite's message, the rows, and time taken."""

    status: str
    error: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK


def check_statement(sql: str) -> str | None:
    """Why the text is not a single query, or None if it may be executed."""
    if not isinstance(sql, str) or not sql.strip():
        return "empty query"
    if "\x00" in sql:
        return "query contains a NUL character"
    stripped = _COMMENT.sub(" ", sql)
    if not _QUERY_START.match(stripped):
        return "only SELECT / WITH / VALUES queries are allowed"
    return None


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in _ALLOWED_ACTIONS:
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def open_sandboxed(path: str) -> sqlite3.Connection:
    """A read-only, immutable connection with the authorizer and lowered limits installed."""
    uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23") + "?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    if hasattr(connection, "enable_load_extension"):  # absent when Python's sqlite3 cannot load any
        connection.enable_load_extension(False)
    for limit, value in _LIMITS.items():
        connection.setlimit(limit, value)
    connection.text_factory = lambda data: data.decode("utf-8", errors="replace")
    connection.set_authorizer(_authorizer)
    return connection


def _approx_size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value) + 8
    return 8


def run_query(connection: sqlite3.Connection, sql: str, limits: Limits) -> Outcome:
    """Execute sql on an already sandboxed connection, in this process (workers call this)."""
    started = time.perf_counter()
    reason = check_statement(sql)
    if reason:
        return Outcome(DENIED, reason)
    deadline = time.monotonic() + limits.timeout_ms / 1000
    timed_out = False

    def progress() -> int:
        nonlocal timed_out
        if time.monotonic() > deadline:
            timed_out = True
            return 1
        return 0

    connection.set_progress_handler(progress, 1000)
    try:
        cursor = connection.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        rows: list[tuple[Any, ...]] = []
        size = 0
        truncated = False
        while True:
            batch = cursor.fetchmany(256)
            if not batch:
                break
            for row in batch:
                size += sum(_approx_size(v) for v in row)
                if size > limits.max_result_bytes:
                    return stamp_elapsed(
                        Outcome(EXHAUSTED, f"result larger than {limits.max_result_bytes} bytes"), started
                    )
                if len(rows) >= limits.max_rows:
                    truncated = True
                    break
                rows.append(tuple(row))
            if truncated:
                break
        cursor.close()
        return stamp_elapsed(Outcome(OK, "", columns, rows, truncated), started)
    except (sqlite3.Warning, sqlite3.ProgrammingError) as exc:
        return stamp_elapsed(Outcome(DENIED, str(exc)), started)
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if timed_out or message == "interrupted":
            return stamp_elapsed(Outcome(TIMEOUT, f"query exceeded {limits.timeout_ms} ms"), started)
        if "not authorized" in message or "prohibited" in message:
            return stamp_elapsed(Outcome(DENIED, message), started)
        if any(
            word in message
            for word in ("too big", "too large", "out of memory", "too many", "stack overflow")
        ):
            return stamp_elapsed(Outcome(EXHAUSTED, message), started)
        return stamp_elapsed(Outcome(ERROR, message), started)
    except MemoryError:
        return stamp_elapsed(Outcome(EXHAUSTED, "out of memory"), started)
    except (ValueError, OverflowError, RecursionError) as exc:
        return stamp_elapsed(Outcome(ERROR, f"{type(exc).__name__}: {exc}"), started)
    finally:
        connection.set_progress_handler(None, 0)


def stamp_elapsed(outcome: Outcome, started: float) -> Outcome:
    outcome.elapsed_ms = 1000 * (time.perf_counter() - started)
    return outcome
