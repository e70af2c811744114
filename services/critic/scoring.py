"""Scoring predictions against gold: EX (and TS) per prediction, with Spider's or BIRD's semantics,
and the accuracy report by hardness (or by the dataset's own difficulty)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.critic.execution import BATCH, Executor
from services.critic.matching import order_matters, results_match, set_results_match
from shared.errors import InvalidArgument
from shared.sql import DIFFICULTY_LEVELS, HARDNESS_LEVELS, hardness_of

METRICS = ("spider", "bird")  # execution match as Spider's evaluator computes it, or as BIRD's


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


def score(
    executor: Executor, predictions: Sequence[PredictionIn], test_suite: bool = False, metric: str = "spider"
) -> tuple[AccuracyReport, list[QueryScore]]:
    """EX (and TS) per prediction. Gold results run once per (database, query); everything runs
    in batches over the worker pool. metric "bird" compares result sets as BIRD's evaluator
    does (queries as written, no test suites) and reports by the dataset's difficulty."""
    if metric not in METRICS:
        raise InvalidArgument(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    bird = metric == "bird"
    if bird and test_suite:
        raise InvalidArgument("test suites are Spider's check; the bird metric has none")
    as_matched = (lambda sql: sql) if bird else executor.for_match
    for p in predictions:
        executor.db_path(p.db_id)
        if not p.gold_sql.strip():
            raise InvalidArgument(f"prediction {p.id or '?'} has no gold SQL")
    paths = {p.db_id: str(executor.db_path(p.db_id)) for p in predictions}
    gold_keys = [(paths[p.db_id], as_matched(p.gold_sql)) for p in predictions]
    golds = executor.gold_outcomes(gold_keys)
    size = max(1, min(BATCH, -(-len(predictions) // max(1, executor.pool.size * 4))))
    chunks = [list(range(i, min(i + size, len(predictions)))) for i in range(0, len(predictions), size)]

    def score_chunk(indices: list[int]) -> list[QueryScore]:
        # Runs in a thread: this chunk's matching overlaps the workers executing other chunks.
        runnable = [i for i in indices if predictions[i].predicted_sql.strip()]
        items = [(paths[predictions[i].db_id], as_matched(predictions[i].predicted_sql)) for i in runnable]
        preds = dict(
            zip(
                runnable,
                executor.pool.execute_many(items, executor.limits, batch=len(items) or 1),
                strict=True,
            )
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
            ts = ex and test_suite and executor.test_suite_match(p.db_id, p.gold_sql, p.predicted_sql)
            level = (p.difficulty or "unknown") if bird else hardness_of(p.gold_sql)
            out.append(QueryScore(p.id, p.db_id, level, ex, bool(ts), error))
        return out

    scores = [s for chunk in executor.threads.map(score_chunk, chunks) for s in chunk]
    return AccuracyReport.from_scores(scores), scores
