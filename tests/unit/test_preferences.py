"""Preferences from execution (train_method dpo): kept SQL preferred to SQL judged on the same
question and not kept - never to hostile, timed-out or capped SQL, never on a question nothing was
kept for, at most two pairs a question (a real SQLite store; no services)."""

from __future__ import annotations

from services.controller.preferences import MAX_PAIRS_PER_QUESTION, preference_pairs
from services.controller.settings import RunSettings
from shared.store import Candidate, Run, Store, Verdict


def _judged(s, key: str, question: str, sql: str, kept: bool, status: str = "OK", round_: int = 1) -> None:
    s.add(
        Candidate(
            id=key,
            run_id="r",
            round=round_,
            key=key,
            db_id="shop",
            question=question,
            sql=sql,
            source="unlabelled",
        )
    )
    s.flush()
    s.add(Verdict(candidate_id=key, kept=kept, status=status))


def test_kept_sql_is_preferred_to_what_lost_failed_or_came_back_empty(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.session() as s:
            s.add(Run(id="r", lineage="x", spec={}))
            s.flush()
            _judged(s, "a1", "How many orders?", "SELECT count(*) FROM orders", True)
            _judged(s, "a2", "How many orders?", "SELECT count(*) FROM orders", True)  # same SQL twice
            _judged(s, "a3", "How many orders?", "SELECT count(*) FROM order", False, "ERROR")
            _judged(s, "a4", "How many orders?", "SELECT 1", False)
            _judged(s, "a5", "How many orders?", "SELECT id FROM orders", False)  # a third: over the cap
            _judged(s, "a6", "How many orders?", "DROP TABLE orders", False, "DENIED")
            _judged(s, "b1", "Which customers?", "SELECT name FROM customers", False)  # nothing kept
            _judged(s, "c1", "Which items?", "SELECT sku FROM items", True)
            _judged(s, "c2", "Which items?", "SELECT sku FROM items WHERE 0", False, "TIMEOUT")
            _judged(s, "d1", "Which days?", "SELECT day FROM days", True, round_=2)
            _judged(s, "d2", "Which days?", "SELECT 2", False, round_=2)
        one_round = preference_pairs(store, "r", 1, RunSettings(accumulate=False))
        assert [(p.question, p.chosen, p.rejected) for p in one_round] == [
            ("How many orders?", "SELECT count(*) FROM orders", "SELECT count(*) FROM order"),
            ("How many orders?", "SELECT count(*) FROM orders", "SELECT 1"),
        ]
        assert len(one_round) == MAX_PAIRS_PER_QUESTION
        both = preference_pairs(store, "r", 2, RunSettings(accumulate=True))
        assert {p.question for p in both} == {"How many orders?", "Which days?"}
    finally:
        store.close()
