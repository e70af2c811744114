"""What a round trains on: kept pairs accumulated over rounds, deduplicated, capped per question."""

from __future__ import annotations

import pytest

from services.controller.training_set import KeptRow, normalise_question, select_training_pairs


def row(key, question, sql, canonical=None, round_=1, db="library"):
    return KeptRow(key, db, question, sql, canonical, round_)


def test_duplicates_across_rounds_are_dropped_and_earlier_rounds_win():
    rows = [
        row("b", "How many books?", "SELECT count(*) FROM book", "select count(*) from book", 2),
        row("a", "how many books", "SELECT COUNT(*) FROM book", "select count(*) from book", 1),
    ]
    pairs = select_training_pairs(rows, max_sql_per_question=2)
    assert [(p.question, p.sql) for p in pairs] == [("how many books", "SELECT COUNT(*) FROM book")]


def test_at_most_k_distinct_sql_per_question():
    rows = [row(str(i), "List titles.", f"SELECT title FROM book LIMIT {i}", f"c{i}") for i in range(5)]
    assert len(select_training_pairs(rows, 2)) == 2
    assert len(select_training_pairs(rows, 10)) == 5
    other_db = [row("z", "List titles.", "SELECT title FROM book", "c0", db="school")]
    assert len(select_training_pairs(rows + other_db, 2)) == 3  # the cap is per database and question


def test_order_is_stable_whatever_order_rows_come_in():
    rows = [row(k, f"q{k}", f"SELECT {k}", round_=r) for k, r in [("c", 1), ("a", 2), ("b", 1)]]
    assert select_training_pairs(rows, 1) == select_training_pairs(list(reversed(rows)), 1)
    assert [p.sql for p in select_training_pairs(rows, 1)] == ["SELECT b", "SELECT c", "SELECT a"]


def test_question_normalisation_and_bad_cap():
    assert normalise_question("  How many   Books? ") == normalise_question("how many books")
    with pytest.raises(ValueError):
        select_training_pairs([], 0)


def test_seed_examples_come_first_and_win_duplicates():
    from services.controller.training_set import seed_rows
    from shared.catalogue import Example

    seeds = seed_rows([Example("library", "How many books?", "SELECT count(*) FROM book", "seed", "s1")])
    kept = [row("a", "how many books", "SELECT COUNT(*) FROM book", "select count(*) from book")]
    pairs = select_training_pairs(kept + seeds, max_sql_per_question=1)
    assert [(p.question, p.sql) for p in pairs] == [("How many books?", "SELECT count(*) FROM book")]


def test_an_evaluation_is_reused_only_when_nothing_that_changes_its_score_changed(tmp_path):
    """The cache key of a held-out evaluation covers the questions and database contents, the limit,
    test suites, the prompt (template, shots) and the token budget."""
    from services.controller.evaluation_keys import split_head
    from services.controller.settings import RunSettings
    from services.controller.steps.base import Context
    from services.controller.steps.evaluate import Evaluate
    from shared.bundled.build import build
    from shared.catalogue import Catalogue, Example

    dataset = build(tmp_path / "bundled")
    catalogue = Catalogue.load(dataset)
    runner = Evaluate(Context(None, None, catalogue, tmp_path, None))  # only the catalogue is read
    base = RunSettings()

    def key_of(settings, shots, engine=""):
        return runner.split_key(settings, shots, runner.eval_examples(settings), engine)

    key = key_of(base, 2)
    assert key == key_of(RunSettings(), 2)  # same inputs, same key
    changed = {
        key_of(base, 0),
        key_of(RunSettings(max_new_tokens=64), 2),
        key_of(RunSettings(eval_limit=5), 2),
        key_of(RunSettings(test_suite=False), 2),
        key_of(base, 2, engine="transformers/cpu/int8"),
    }
    assert key not in changed and len(changed) == 5
    head = split_head(base, 2)  # what `rounds` finds an evaluation by, whatever the engine
    assert key.startswith(head) and key_of(base, 2, engine="transformers/cpu/int8").startswith(head)
    film = catalogue.path("film")
    with open(film, "ab") as handle:  # a database's content changes
        handle.write(b"\0")
    assert key_of(base, 2) != key
    logged = Example("film", "Which films are long?", "SELECT title FROM film", "log", "log:ab")
    assert runner.split_key(base, 2, [*runner.eval_examples(base), logged]) != key_of(
        base, 2
    )  # a log question
    assert len(key) <= 100  # fits the store's column
