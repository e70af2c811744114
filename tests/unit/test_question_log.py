"""The question log as a run reads it: one entry per distinct question with its newest person's SQL,
as it stood at a time; a held-out share chosen by hash (never trains; the gate's when labelled); and
what arrived since a time, which a waiting continuous run counts (a real SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.controller.question_log import (
    NewMaterial,
    held_out,
    log_databases,
    logged_questions,
    new_since,
    split_log,
)
from shared.store import AskedQuestion, Store

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.close()


def _log(
    store, key: str, db_id: str, question: str, minutes: int, gold: str | None = None, fed: int | None = None
):
    with store.session() as s:
        s.add(
            AskedQuestion(
                id=key,
                db_id=db_id,
                question=question,
                version="v1",
                few_shot_k=0,
                sql="SELECT 1",
                samples=1,
                agreement_votes=1,
                executable=1,
                status="ok",
                row_count=1,
                elapsed_ms=1.0,
                created_at=T0 + timedelta(minutes=minutes),
                logged_at=T0 + timedelta(minutes=minutes),
                gold_sql=gold,
                feedback="wrong" if gold else "",
                feedback_at=None if fed is None else T0 + timedelta(minutes=fed),
            )
        )


def test_a_question_asked_again_is_one_entry_with_its_newest_person_sql_as_of_a_time(store):
    _log(store, "a", "shop", "How many orders?", 0)
    _log(store, "b", "shop", "  how many orders ", 5, gold="SELECT count(*) FROM orders", fed=6)
    _log(store, "c", "shop", "How many orders?", 7, gold="SELECT count(id) FROM orders", fed=20)
    _log(store, "d", "zoo", "Which animals?", 30)

    now = logged_questions(store)
    assert [(q.db_id, q.question, q.gold_sql) for q in now] == [
        ("shop", "How many orders?", "SELECT count(id) FROM orders"),
        ("zoo", "Which animals?", ""),
    ]
    then = logged_questions(store, before=T0 + timedelta(minutes=10))  # c's correction came later
    assert [(q.question, q.gold_sql) for q in then] == [("How many orders?", "SELECT count(*) FROM orders")]
    assert [q.db_id for q in logged_questions(store, db_ids=["zoo"])] == ["zoo"]
    assert now[0].example().id == logged_questions(store, before=T0 + timedelta(minutes=1))[0].example().id


def test_the_held_out_share_is_fixed_by_the_question_and_only_labelled_ones_gate(store):
    questions = [f"question number {i}?" for i in range(400)]
    out = [q for q in questions if held_out("shop", q, 0.2)]
    assert 40 < len(out) < 120  # about a fifth
    assert out == [
        q for q in questions if held_out("shop", q.upper() + "  ", 0.2)
    ]  # same question, same side
    assert not any(held_out("shop", q, 0.0) for q in questions) and all(
        held_out("shop", q, 1.0) for q in questions
    )

    for i, q in enumerate(questions[:60]):
        _log(store, f"s{i}", "shop", q, i, gold="SELECT 1" if i % 2 else None)
    _log(store, "z", "zoo", "Which animals?", 100)
    split = split_log(logged_questions(store), 0.2, held_out_dbs=["zoo"])
    training = {q.question for q in split.training}
    gate = {e.question for e in split.gate}
    assert not training & gate and "Which animals?" not in training
    assert gate == {q for i, q in enumerate(questions[:60]) if i % 2 and held_out("shop", q, 0.2)}
    assert all(e.query == "SELECT 1" and e.id.startswith("log:") for e in split.gate)
    assert training == {q for q in questions[:60] if not held_out("shop", q, 0.2)}


def test_new_material_counts_first_asks_and_corrections_after_a_time(store):
    _log(store, "a", "shop", "How many orders?", 0)
    _log(store, "b", "shop", "how many orders", 30)  # asked again: not new
    _log(store, "c", "shop", "Which customers?", 31)
    _log(store, "d", "shop", "Which products?", 5, gold="SELECT name FROM products", fed=40)
    _log(store, "e", "zoo", "Which animals?", 50)
    since = T0 + timedelta(minutes=20)
    assert new_since(store, since) == new_since(store, since, ["shop", "zoo"])
    found = new_since(store, since)
    assert (found.questions, found.corrections) == (2, 1)
    shop = new_since(store, since, ["shop"])
    assert (shop.questions, shop.corrections) == (1, 1)
    assert new_since(store, T0 + timedelta(hours=2)).questions == 0
    assert new_since(store, since, held_out_dbs=["zoo"]).questions == 1  # never trains: not counted
    assert new_since(store, since, holdout=1.0) == NewMaterial(0, 0)  # all held out: nothing to learn


def test_an_import_of_old_questions_is_new_when_it_reaches_the_log(store):
    """A run counts questions by when they reached the log, not when someone once asked them."""
    with store.session() as s:
        s.add(
            AskedQuestion(
                id="old",
                db_id="shop",
                question="Which stores closed?",
                version="",
                few_shot_k=0,
                sql="",
                samples=0,
                agreement_votes=0,
                executable=0,
                status="",
                row_count=0,
                elapsed_ms=0.0,
                origin="import",
                created_at=T0 - timedelta(days=365),
                logged_at=T0 + timedelta(minutes=5),
            )
        )
    assert new_since(store, T0).questions == 1
    assert (
        logged_questions(store, before=T0) == []
        and len(logged_questions(store, before=T0 + timedelta(hours=1))) == 1
    )


def test_a_database_removed_from_the_dataset_is_no_longer_read_from_the_log(store):
    _log(store, "a", "shop", "How many orders?", 0)
    _log(store, "b", "gone", "How many ghosts?", 1)
    present = ["shop", "zoo"]  # "gone" was removed after people asked about it
    assert log_databases([], present) == ["shop", "zoo"]  # no db_ids: every database still there
    assert log_databases(["gone", "shop"], present) == ["shop"]
    assert [q.db_id for q in logged_questions(store, log_databases([], present))] == ["shop"]
    assert logged_questions(store, log_databases(["gone"], present)) == []  # not every database
    assert new_since(store, T0 - timedelta(hours=1), log_databases([], present)).questions == 1
