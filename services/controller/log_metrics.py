"""Prometheus figures of the question log: asks and feedback as they happen, and the log's size as
the store holds it at each scrape (imports and forgets reach the store without the controller)."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from shared.store import AskedQuestion, Store

log = logging.getLogger(__name__)

ASKS = Counter(
    "sqldistill_asks_total", "Questions asked, by database and execution status.", ["db_id", "status"]
)
FEEDBACK = Counter(
    "sqldistill_feedback_total",
    "Feedback on answers, by verdict and whether it carried SQL.",
    ["verdict", "corrected"],
)
LOG_SIZE = Gauge(
    "sqldistill_question_log_entries",
    "Entries in the question log (asks and imports), with or without a person's SQL.",
    ["labelled"],
)


def watch_log_size(store: Store) -> None:
    """Make LOG_SIZE read the store at scrape time."""
    for labelled in (True, False):
        LOG_SIZE.labels(labelled=str(labelled).lower()).set_function(
            lambda labelled=labelled: _count(store, labelled)
        )


def _count(store: Store, labelled: bool) -> float:
    has_sql = AskedQuestion.gold_sql.is_not(None) & (AskedQuestion.gold_sql != "")
    try:
        with store.session() as s:
            return float(s.scalar(select(func.count()).where(has_sql if labelled else ~has_sql)) or 0)
    except Exception as exc:  # a scrape must not fail because the store is away for a moment
        log.warning("question log size unavailable: %s", exc)
        return float("nan")
