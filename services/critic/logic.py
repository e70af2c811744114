"""The critic's logic, free of gRPC: execute, judge candidates, evaluate predictions, describe schemas."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from services.critic.matching import order_matters, results_match, set_results_match
from services.critic.sandbox import EXHAUSTED, Limits, Outcome, SandboxPool
from services.critic.voting import DEFAULT_MIN_SHARE, DEFAULT_MIN_VOTES, Ballot, VoteResult, vote
from shared.catalogue import Catalogue, DatabaseSchema
from shared.errors import InvalidArgument, NotFound
from shared.sql import (
    DIFFICULTY_LEVELS,
    HARDNESS_LEVELS,
    SqlParseError,
    canonical,
    canonical_or_text,
    hardness,
    hardness_of,
    is_query,
    parse,
    remove_distinct,
)

MAX_TIMEOUT_MS = 60_000
MAX_ROWS = 1_000_000
MAX_SQL_CHARS = 100_000
METRICS = ("spider", "bird")  # execution match as Spider's evaluator computes it, or as BIRD's
GOLD_CACHE_SIZE = 20_000
VOTE_CACHE_SIZE = 4_096  # vote results by sample set
BATCH = 128  # queries per IPC round-trip to a worker


@dataclass(frozen=True)
class CandidateIn:
    id: str
    db_id: str
    question: str
    sql: str
    gold_sql: str = ""
    resampled_sql: tuple[str, ...] = ()


@dataclass(frozen=True)
class JudgeSettings:
    test_suite: bool = False
    consistency_samples: int = 0  # m; 0 = no round-trip check for self-instruct pairs
    consistency_threshold: float = DEFAULT_MIN_SHARE  # keep when agreement > this: a strict majority
    min_votes: int = DEFAULT_MIN_VOTES  # ... held by at least this many samples
    dedupe: bool = True


@dataclass
class VerdictOut:
    candidate_id: str
    kept: bool = False
    reasons: list[str] = field(default_factory=list)
    parses: bool = False
    executes: bool = False
    status: str = ""
    error: str = ""
    canonical_sql: str = ""
    hardness: str = ""
    has_gold: bool = False
    execution_match: bool = False
    test_suite_match: bool = False
    consistency: float = 0.0
    result_rows: int = 0


@dataclass(frozen=True)
class PredictionIn:
    id: str
    db_id: str
    gold_sql: str
    predicted_sql: str
    question: str = ""
    difficulty: str = ""  # the dataset's own level (BIRD): what the bird metric reports by


@dataclass
class QueryScore:
    id: str
    db_id: str
    hardness: str
    execution_match: bool
    test_suite_match: bool
    error: str = ""


@dataclass
class AccuracyReport:
    total: int = 0
    execution: float = 0.0
    test_suite: float = 0.0
    by_hardness: dict[str, AccuracyReport] = field(default_factory=dict)

    @classmethod
    def from_scores(cls, scores: Sequence[QueryScore], with_levels: bool = True) -> AccuracyReport:
        n = len(scores)
        report = cls(
            total=n,
            execution=sum(s.execution_match for s in scores) / n if n else 0.0,
            test_suite=sum(s.test_suite_match for s in scores) / n if n else 0.0,
        )
        if with_levels:
            for level in [*HARDNESS_LEVELS, *DIFFICULTY_LEVELS]:
                subset = [s for s in scores if s.hardness == level]
                if subset:
                    report.by_hardness[level] = cls.from_scores(subset, with_levels=False)
        return report


class Critic:
    """Judges SQL by running it in the sandbox against the catalogue's databases (and their suites)."""

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
        self._threads = ThreadPoolExecutor(max_workers=max(1, pool.size * 2), thread_name_prefix="critic")
        self._describe_lock = threading.Lock()
        # Gold results by (db path, SQL): databases are immutable, so a result never goes stale.
        self._gold_results: dict[tuple[str, str], Outcome] = {}
        self._votes: dict[tuple[object, ...], VoteResult] = {}

    # --- execute ---------------------------------------------------------------------------
    def _db_path(self, db_id: str) -> Path:
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
        path = self._db_path(db_id)
        limits = self._limits(timeout_ms, max_rows)
        if len(sql) > MAX_SQL_CHARS:  # hostile input gets a verdict, not an error
            return Outcome(EXHAUSTED, f"query is {len(sql)} characters; the limit is {MAX_SQL_CHARS}")
        return self.interactive.execute(str(path), sql, limits)

    def _suite_paths(self, db_id: str) -> list[str]:
        original = str(self._db_path(db_id))
        if self.suites is None:
            return [original]
        return [original, *[str(p) for p in self.suites.variants(db_id)]]

    def _for_match(self, sql: str) -> str:
        if self.keep_distinct:
            return sql
        try:
            return remove_distinct(sql)
        except SqlParseError:
            return sql

    def execution_match(self, db_path: str, gold_sql: str, pred_sql: str) -> tuple[bool, str]:
        """Official EX on one database: (match, error of the prediction if any)."""
        key = (db_path, self._for_match(gold_sql))
        gold = self._gold_outcomes([key])[key]
        if not gold.ok:
            return False, f"gold query failed: {gold.error}"
        pred = self.pool.execute(db_path, self._for_match(pred_sql), self.limits)
        if not pred.ok:
            return False, f"{pred.status}: {pred.error}"
        return results_match(gold.rows, pred.rows, order_matters(gold_sql)), ""

    def distinguishes(self, gold_sql: str, other_sql: str, db_path: str) -> bool:
        """True when other_sql's result differs from gold's on db_path (what test suites are built to do)."""
        return not self.execution_match(db_path, gold_sql, other_sql)[0]

    def test_suite_match(self, db_id: str, gold_sql: str, pred_sql: str) -> bool:
        """TS: EX must hold on every database of the suite (the original included)."""
        return all(self.execution_match(path, gold_sql, pred_sql)[0] for path in self._suite_paths(db_id))

    # --- judge -------------------------------------------------------------------------------
    def judge(
        self, candidates: Iterable[CandidateIn], settings: JudgeSettings = JudgeSettings(), chunk: int = 64
    ) -> Iterator[VerdictOut]:
        """Verdicts in input order, streamed a chunk at a time.

        Each chunk is analysed in this process (parse, canonical form, hardness), then its queries
        run in batches spread over the sandbox workers, so IPC is paid per batch, not per query."""
        candidates = list(candidates)
        for c in candidates:
            self._db_path(c.db_id)  # unknown databases fail the whole request up front
        if settings.consistency_samples < 0:
            raise InvalidArgument("consistency_samples must be >= 0")
        if not 0 <= settings.consistency_threshold <= 1:
            raise InvalidArgument("consistency_threshold must be within [0, 1]")
        if settings.min_votes < 1:
            raise InvalidArgument("min_votes must be >= 1")
        seen: set[tuple[str, str]] = set()
        for start in range(0, len(candidates), chunk):
            for verdict in self._judge_chunk(candidates[start : start + chunk], settings):
                yield self._dedupe(verdict, seen, settings)

    def _dedupe(self, verdict: VerdictOut, seen: set[tuple[str, str]], settings: JudgeSettings) -> VerdictOut:
        if settings.dedupe and verdict.kept and verdict.canonical_sql:
            key = (verdict.hardness, verdict.canonical_sql)
            if key in seen:
                verdict.kept = False
                verdict.reasons.append("duplicate: same canonical SQL as an earlier kept candidate")
            seen.add(key)
        return verdict

    def _batch(self, items: list[tuple[str, str]], pool: SandboxPool | None = None) -> list[Outcome]:
        pool = pool or self.pool
        size = max(1, min(BATCH, -(-len(items) // max(1, pool.size * 4))))
        return pool.execute_many(items, self.limits, batch=size)

    def _gold_outcomes(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Outcome]:
        """Gold results by (db path, gold SQL as matched), executed once and cached."""
        wanted = list(dict.fromkeys(keys))
        found = {k: o for k in wanted if (o := self._gold_results.get(k)) is not None}
        missing = [k for k in wanted if k not in found]
        if missing:
            if len(self._gold_results) + len(missing) > GOLD_CACHE_SIZE:
                self._gold_results.clear()
            for key, outcome in zip(missing, self._batch(missing), strict=True):
                found[key] = self._gold_results[key] = outcome
        return found

    def _analyse(self, c: CandidateIn) -> tuple[VerdictOut, exp.Expression | None]:
        """Static checks in this process; a candidate that defeats them gets a reason, never an error."""
        v = VerdictOut(candidate_id=c.id, has_gold=bool(c.gold_sql))
        if len(c.sql) > MAX_SQL_CHARS:
            v.status = EXHAUSTED
            v.reasons.append(f"query is {len(c.sql)} characters; the limit is {MAX_SQL_CHARS}")
            return v, None
        try:
            tree = parse(c.sql)
            v.parses = True
            if not is_query(tree):
                v.reasons.append("not a single SELECT query")
                return v, None
            v.canonical_sql = canonical(tree)
            v.hardness = hardness(tree)
            return v, tree
        except SqlParseError as exc:
            v.reasons.append(f"{'cannot analyse' if v.parses else 'does not parse'}: {exc}")
        except Exception as exc:  # noqa: BLE001 - model-written SQL may break any analysis
            v.reasons.append(f"cannot analyse: {type(exc).__name__}")
        return v, None

    def _judge_chunk(self, chunk: Sequence[CandidateIn], settings: JudgeSettings) -> list[VerdictOut]:
        analysed = [self._analyse(c) for c in chunk]
        verdicts, trees = [v for v, _ in analysed], [tree for _, tree in analysed]
        runnable = [i for i, tree in enumerate(trees) if tree is not None]
        paths = {c.db_id: str(self._db_path(c.db_id)) for c in chunk}
        outcomes = dict(
            zip(runnable, self._batch([(paths[chunk[i].db_id], chunk[i].sql) for i in runnable]), strict=True)
        )
        gold_keys = {
            i: (paths[chunk[i].db_id], self._for_match(chunk[i].gold_sql))
            for i in runnable
            if chunk[i].gold_sql
        }
        golds = self._gold_outcomes(gold_keys.values())
        for i in runnable:
            c, v, outcome = chunk[i], verdicts[i], outcomes[i]
            v.status, v.error = outcome.status, outcome.error
            if not outcome.ok:
                v.reasons.append(f"does not execute ({outcome.status}): {outcome.error}")
                continue
            v.executes = True
            v.result_rows = len(outcome.rows)
            try:
                self._check_result(
                    c, v, trees[i], outcome, golds.get(gold_keys.get(i)), paths[c.db_id], settings
                )
            except Exception as exc:  # noqa: BLE001 - one candidate's failure is its own verdict
                v.reasons.append(f"cannot check the result: {type(exc).__name__}")
        for v in verdicts:
            v.kept = not v.reasons
        return verdicts

    def _check_result(
        self,
        c: CandidateIn,
        v: VerdictOut,
        tree: exp.Expression,
        outcome: Outcome,
        gold: Outcome | None,
        path: str,
        settings: JudgeSettings,
    ) -> None:
        """Degenerate results, then gold (EX, TS) or round-trip consistency; failures become reasons."""
        degenerate = self._degenerate(tree, outcome, c.question)
        if degenerate:
            v.reasons.append(degenerate)
            return
        if gold is not None:
            v.execution_match, error = self._match(gold, outcome, c, path)
            if not v.execution_match:
                v.reasons.append("result differs from gold" + (f" ({error})" if error else ""))
            elif settings.test_suite:
                v.test_suite_match = self.test_suite_match(c.db_id, c.gold_sql, c.sql)
                if not v.test_suite_match:
                    v.reasons.append("differs from gold on a test-suite database")
        elif settings.consistency_samples:
            # No gold: the candidate is one vote among its question's samples (re-answers, or the
            # other samples of a question-only run) and is kept when it is in the majority group.
            votes = sorted([c.sql, *c.resampled_sql])
            result = self.vote(c.db_id, votes, test_suite=settings.test_suite)
            v.consistency = result.agreement
            if result.group_of(votes.index(c.sql)) != result.winner:
                v.reasons.append(
                    f"not in the majority: {len(result.winning)} of {result.executable} executable samples "
                    "agree on another result"
                )
            elif not result.decided(settings.consistency_threshold, settings.min_votes):
                v.reasons.append(
                    f"agreement {len(result.winning)} of {result.executable} samples: not above "
                    f"{settings.consistency_threshold:.2f} with at least {settings.min_votes}"
                )

    def _match(self, gold: Outcome, pred: Outcome, c: CandidateIn, path: str) -> tuple[bool, str]:
        """EX from already-run results; the prediction is re-run only if DISTINCT removal changed it."""
        if not gold.ok:
            return False, f"gold query failed: {gold.error}"
        matched_sql = self._for_match(c.sql)
        if matched_sql != c.sql:
            pred = self.pool.execute(path, matched_sql, self.limits)
            if not pred.ok:
                return False, f"{pred.status}: {pred.error}"
        return results_match(gold.rows, pred.rows, order_matters(c.gold_sql)), ""

    def _degenerate(self, tree: exp.Expression, outcome: Outcome, question: str) -> str:
        if outcome.truncated:
            return f"result exceeds {self.limits.max_rows} rows"
        if not outcome.rows:
            return "empty result"
        if all(value is None for row in outcome.rows for value in row):
            return "result is all NULL"
        if (
            isinstance(tree, exp.Select)
            and any(isinstance(e, exp.Star) for e in tree.expressions)
            and not any(tree.args.get(k) for k in ("where", "group", "having", "limit", "joins"))
            and not any(word in question.lower().split() for word in ("all", "every", "everything"))
        ):
            return "returns a whole table the question did not ask for"
        return ""

    # --- vote --------------------------------------------------------------------------------
    def vote(
        self,
        db_id: str,
        sqls: Sequence[str],
        test_suite: bool = False,
        preferred: int = -1,
        interactive: bool = False,
    ) -> VoteResult:
        """Groups SQL samples for one question by their results (on the test suite when asked);
        indices in the result refer to `sqls`. Results of one sample set are cached: the
        candidates of one question all vote over the same samples. Interactive votes (a person
        waits) run on the interactive workers."""
        paths = self._suite_paths(db_id) if test_suite else [str(self._db_path(db_id))]
        key = (db_id, test_suite, preferred, tuple(sqls))
        cached = self._votes.get(key)
        if cached is not None:
            return cached
        distinct = list(dict.fromkeys(sqls))
        runnable = [sql for sql in distinct if len(sql) <= MAX_SQL_CHARS]
        items = [(path, self._for_match(sql)) for sql in runnable for path in paths]
        pool = self.interactive if interactive else self.pool
        outcomes = dict(zip(items, self._batch(items, pool), strict=True)) if items else {}
        ballots = [
            Ballot(
                sql=sql,
                outcomes=tuple(outcomes[(p, self._for_match(sql))] for p in paths) if sql in runnable else (),
                tie_key=canonical_or_text(sql),  # orders tied groups
            )
            for sql in sqls
        ]
        result = vote(ballots, preferred)
        if len(self._votes) >= VOTE_CACHE_SIZE:
            self._votes.clear()
        self._votes[key] = result
        return result

    # --- evaluate ------------------------------------------------------------------------------
    def evaluate(
        self, predictions: Sequence[PredictionIn], test_suite: bool = False, metric: str = "spider"
    ) -> tuple[AccuracyReport, list[QueryScore]]:
        """EX (and TS) per prediction. Gold results run once per (database, query); everything runs
        in batches over the worker pool. metric "bird" compares result sets as BIRD's evaluator
        does (queries as written, no test suites) and reports by the dataset's difficulty."""
        if metric not in METRICS:
            raise InvalidArgument(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        bird = metric == "bird"
        if bird and test_suite:
            raise InvalidArgument("test suites are Spider's check; the bird metric has none")
        as_matched = (lambda sql: sql) if bird else self._for_match
        for p in predictions:
            self._db_path(p.db_id)
            if not p.gold_sql.strip():
                raise InvalidArgument(f"prediction {p.id or '?'} has no gold SQL")
        paths = {p.db_id: str(self._db_path(p.db_id)) for p in predictions}
        gold_keys = [(paths[p.db_id], as_matched(p.gold_sql)) for p in predictions]
        golds = self._gold_outcomes(gold_keys)
        size = max(1, min(BATCH, -(-len(predictions) // max(1, self.pool.size * 4))))
        chunks = [list(range(i, min(i + size, len(predictions)))) for i in range(0, len(predictions), size)]

        def score_chunk(indices: list[int]) -> list[QueryScore]:
            # Runs in a thread: this chunk's matching overlaps the workers executing other chunks.
            runnable = [i for i in indices if predictions[i].predicted_sql.strip()]
            items = [
                (paths[predictions[i].db_id], as_matched(predictions[i].predicted_sql)) for i in runnable
            ]
            preds = dict(
                zip(runnable, self.pool.execute_many(items, self.limits, batch=len(items) or 1), strict=True)
            )
            out = []
            for i in indices:
                p = predictions[i]
                gold, pred = golds[gold_keys[i]], preds.get(i)
                if pred is None:
                    ex, error = False, "empty prediction"
                elif not gold.ok:
                    ex, error = False, f"gold query failed: {gold.error}"
                elif not pred.ok:
                    ex, error = False, f"{pred.status}: {pred.error}"
                elif bird:
                    ex, error = set_results_match(gold.rows, pred.rows), ""
                else:
                    ex, error = results_match(gold.rows, pred.rows, order_matters(p.gold_sql)), ""
                ts = ex and test_suite and self.test_suite_match(p.db_id, p.gold_sql, p.predicted_sql)
                level = (p.difficulty or "unknown") if bird else hardness_of(p.gold_sql)
                out.append(QueryScore(p.id, p.db_id, level, ex, bool(ts), error))
            return out

        scores = [score for chunk in self._threads.map(score_chunk, chunks) for score in chunk]
        return AccuracyReport.from_scores(scores), scores

    # --- describe ------------------------------------------------------------------------------
    def describe(self, db_ids: Sequence[str] = ()) -> list[DatabaseSchema]:
        ids = list(db_ids) or self.catalogue.db_ids
        for db_id in ids:
            self._db_path(db_id)
        with self._describe_lock:
            return [self.catalogue.schema(db_id) for db_id in ids]

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.pool.close()
        if self.interactive is not self.pool:
            self.interactive.close()
