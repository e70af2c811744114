"""Running SQL for the critic: a database's path and its test-suite variants, limits, batches over
the sandbox workers, cached gold results, execution match on one database or a whole suite, and the
vote that groups samples by result. Judging (judging.py) and scoring (scoring.py) build on it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.critic.fuzzing import file_stamp
from services.critic.matching import order_matters, results_match
from services.critic.sandbox import EXHAUSTED, Limits, Outcome
from services.critic.sandbox_pool import SandboxPool
from services.critic.voting import Ballot, VoteResult, vote
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument, NotFound
from shared.limits import MAX_ROWS, MAX_SQL_CHARS, MAX_TIMEOUT_MS
from shared.schema import DatabaseSchema
from shared.sql import SqlParseError, canonical_or_text, remove_distinct

GOLD_CACHE_SIZE = 20_000
VOTE_CACHE_SIZE = 4_096  # vote results by sample set
BATCH = 128  # queries per IPC round-trip to a worker


class Executor:
    """Runs SQL against the catalogue's databases (and their suites) in the sandbox."""

    def __init__(
        self,
        catalogue: Catalogue,
        pool: SandboxPool,
        limits: Limits = Limits(),
        suites: object | None = None,
        keep_distinct: bool = False,
        interactive: SandboxPool | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.pool = pool
        # Workers of their own for what a person waits on (Execute, ask's vote): never behind judging.
        self.interactive = interactive or pool
        self.limits = limits
        self.suites = suites  # services.critic.testsuite.SuiteStore, when test suites are enabled
        self.keep_distinct = keep_distinct
        self.threads = ThreadPoolExecutor(max_workers=max(1, pool.size * 2), thread_name_prefix="critic")
        self._describe_lock = threading.Lock()
        # Gold results by (db path, SQL): databases are immutable, so a result never goes stale.
        self._gold_results: dict[tuple[str, str, tuple[int, int]], Outcome] = {}
        self._votes: dict[tuple[object, ...], VoteResult] = {}

    # --- execute ---------------------------------------------------------------------------
    def db_path(self, db_id: str) -> Path:
        if not db_id:
            raise InvalidArgument("db_id is required")
        try:
            return self.catalogue.path(db_id)
        except KeyError:
            raise NotFound(
                f"unknown database {db_id!r}; known: {', '.join(self.catalogue.db_ids[:20])}"
            ) from None

    def _limits(self, timeout_ms: int = 0, max_rows: int = 0) -> Limits:
        if timeout_ms < 0 or timeout_ms > MAX_TIMEOUT_MS:
            raise InvalidArgument(f"timeout_ms must be between 0 and {MAX_TIMEOUT_MS}, got {timeout_ms}")
        if max_rows < 0 or max_rows > MAX_ROWS:
            raise InvalidArgument(f"max_rows must be between 0 and {MAX_ROWS}, got {max_rows}")
        return Limits(
            timeout_ms=timeout_ms or self.limits.timeout_ms,
            max_rows=max_rows or self.limits.max_rows,
            max_result_bytes=self.limits.max_result_bytes,
        )

    def execute(self, db_id: str, sql: str, timeout_ms: int = 0, max_rows: int = 0) -> Outcome:
        path = self.db_path(db_id)
        limits = self._limits(timeout_ms, max_rows)
        if len(sql) > MAX_SQL_CHARS:  # hostile input gets a verdict, not an error
            return Outcome(EXHAUSTED, f"query is {len(sql)} characters; the limit is {MAX_SQL_CHARS}")
        return self.interactive.execute(str(path), sql, limits)

    def suite_paths(self, db_id: str) -> list[str]:
        original = str(self.db_path(db_id))
        if self.suites is None:
            return [original]
        return [original, *[str(p) for p in self.suites.variants(db_id)]]

    def for_match(self, sql: str) -> str:
        if self.keep_distinct:
            return sql
        try:
            return remove_distinct(sql)
        except SqlParseError:
            return sql

    def execution_match(self, db_path: str, gold_sql: str, pred_sql: str) -> tuple[bool, str]:
        """Official EX on one database: (match, error of the prediction if any)."""
        key = (db_path, self.for_match(gold_sql))
        gold = self.gold_outcomes([key])[key]
        if not gold.ok:
            return False, f"gold query failed: {gold.error}"
        pred = self.pool.execute(db_path, self.for_match(pred_sql), self.limits)
        if not pred.ok:
            return False, f"{pred.status}: {pred.error}"
        return results_match(gold.rows, pred.rows, order_matters(gold_sql)), ""

    def distinguishes(self, gold_sql: str, other_sql: str, db_path: str) -> bool:
        """True when other_sql's result differs from gold's on db_path (what test suites are built to do)."""
        return not self.execution_match(db_path, gold_sql, other_sql)[0]

    def test_suite_match(self, db_id: str, gold_sql: str, pred_sql: str) -> bool:
        """TS: EX must hold on every database of the suite (the original included)."""
        return all(self.execution_match(path, gold_sql, pred_sql)[0] for path in self.suite_paths(db_id))

    def batch(self, items: list[tuple[str, str]], pool: SandboxPool | None = None) -> list[Outcome]:
        pool = pool or self.pool
        size = max(1, min(BATCH, -(-len(items) // max(1, pool.size * 4))))
        return pool.execute_many(items, self.limits, batch=size)

    def gold_outcomes(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Outcome]:
        """Gold results by (db path, gold SQL as matched), executed once and cached."""
        wanted = list(dict.fromkeys(keys))
        stamps = {path: file_stamp(path) for path, _ in wanted}  # a refreshed file: results anew
        found = {k: o for k in wanted if (o := self._gold_results.get((*k, stamps[k[0]]))) is not None}
        missing = [k for k in wanted if k not in found]
        if missing:
            if len(self._gold_results) + len(missing) > GOLD_CACHE_SIZE:
                self._gold_results.clear()
            for key, outcome in zip(missing, self.batch(missing), strict=True):
                found[key] = self._gold_results[(*key, stamps[key[0]])] = outcome
        return found

    # --- vote -------------------------------------------------------------------------------
    def vote(
        self,
        db_id: str,
        sqls: Sequence[str],
        test_suite: bool = False,
        preferred: int = -1,
        interactive: bool = False,
        empty_last: bool = True,
    ) -> VoteResult:
        """Groups SQL samples for one question by their results (on the test suite when asked);
        indices in the result refer to `sqls`. Results of one sample set are cached: the
        candidates of one question all vote over the same samples. Interactive votes (a person
        waits) run on the interactive workers."""
        paths = self.suite_paths(db_id) if test_suite else [str(self.db_path(db_id))]
        key = (db_id, file_stamp(paths[0]), test_suite, preferred, empty_last, tuple(sqls))
        cached = self._votes.get(key)
        if cached is not None:
            return cached
        distinct = list(dict.fromkeys(sqls))
        runnable = [sql for sql in distinct if len(sql) <= MAX_SQL_CHARS]
        items = [(path, self.for_match(sql)) for sql in runnable for path in paths]
        pool = self.interactive if interactive else self.pool
        outcomes = dict(zip(items, self.batch(items, pool), strict=True)) if items else {}
        ballots = [
            Ballot(
                sql=sql,
                outcomes=tuple(outcomes[(p, self.for_match(sql))] for p in paths) if sql in runnable else (),
                tie_key=canonical_or_text(sql),  # orders tied groups
            )
            for sql in sqls
        ]
        result = vote(ballots, preferred, empty_last)
        if len(self._votes) >= VOTE_CACHE_SIZE:
            self._votes.clear()
        self._votes[key] = result
        return result

    # --- describe ------------------------------------------------------------------------------
    def describe(self, db_ids: Sequence[str] = ()) -> list[DatabaseSchema]:
        ids = list(db_ids) or self.catalogue.db_ids
        for db_id in ids:
            self.db_path(db_id)
        with self._describe_lock:
            return [self.catalogue.schema(db_id) for db_id in ids]

    def close(self) -> None:
        self.threads.shutdown(wait=False, cancel_futures=True)
        self.pool.close()
        if self.interactive is not self.pool:
            self.interactive.close()
