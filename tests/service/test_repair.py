"""Repair from the database's own error, with the critic's real sandbox running the SQL: which SQL is
repaired (failures with SQLite's message only - never refused or hostile SQL), what the writer is
shown, how a repair's votes stand in for the samples it repairs, repeated attempts, and answers
settled with their repairs. The writer is a scripted stand-in for a model (what is tested is the
loop around it, not a model)."""

from __future__ import annotations

import hashlib

import pytest

from offline.evaluation import open_critic
from offline.prediction import critic_voter
from shared.answering import QuestionIn, answer_by_vote
from shared.catalogue import Catalogue
from shared.repairing import Repaired, repair
from shared.sampling import Sampling

GREEDY = Sampling(temperature=0.0, max_new_tokens=64)
QUESTION = QuestionIn("q", "concert", "What are the names of all singers?", "")


class ScriptedWriter:
    """Writes `first` for a question and, for a repair, what `fixes` maps the failing SQL to."""

    def __init__(self, first: str, fixes: dict[str, str]) -> None:
        self.first, self.fixes = first, fixes
        self.asked: list[QuestionIn] = []

    def __call__(self, questions, n, sampling):
        self.asked += questions
        return [
            [self.fixes.get(q.failed_sql, "")] * n if q.failed_sql else [self.first] * n for q in questions
        ]


@pytest.fixture(scope="module")
def critic(spider_dir):
    critic = open_critic(Catalogue.load(spider_dir))
    yield critic
    critic.close()


def test_only_sql_that_fails_with_an_error_is_repaired_once_and_votes_for_each_sample(critic, spider_dir):
    db = Catalogue.load(spider_dir).path("concert")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    broken, right = "SELECT nme FROM singer", "SELECT name FROM singer"
    writer = ScriptedWriter("", {broken: right})
    written = [[broken, broken, right, "DROP TABLE singer", "SELECT name FROM singer; DELETE FROM singer"]]
    (found,) = repair([QUESTION], written, writer, critic_voter(critic), GREEDY, attempts=1)
    (asked,) = writer.asked  # the failing SQL, once; refused and hostile SQL are verdicts, not repaired
    assert asked.failed_sql == broken and "no such column: nme" in asked.error
    assert (asked.question, asked.db_id) == (QUESTION.question, QUESTION.db_id)
    assert found == [Repaired(right, broken, asked.error)] * 2  # the two samples that wrote it
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_repair_that_fails_is_repaired_again_up_to_the_attempts(critic):
    first, second, right = "SELECT nme FROM singer", "SELECT nam FROM singer", "SELECT name FROM singer"
    fixes = {first: second, second: right}
    (once,) = repair([QUESTION], [[first]], ScriptedWriter("", fixes), critic_voter(critic), GREEDY, 1)
    assert [r.sql for r in once] == [second]
    writer = ScriptedWriter("", fixes)
    (twice,) = repair([QUESTION], [[first]], writer, critic_voter(critic), GREEDY, 2)
    assert [(r.sql, r.failed_sql) for r in twice] == [(second, first), (right, second)]
    assert [q.failed_sql for q in writer.asked] == [first, second]
    assert "no such column: nam" in twice[1].error
    copier = ScriptedWriter("", {first: f" {first} ;"})  # writes the failing SQL again
    assert repair([QUESTION], [[first]], copier, critic_voter(critic), GREEDY, 2) == [[]]
    assert len(copier.asked) == 1  # and is not asked again
    nothing = ScriptedWriter("", fixes)
    assert repair([QUESTION], [[right]], nothing, critic_voter(critic), GREEDY, 2) == [[]]
    assert nothing.asked == []  # SQL that runs is never sent back


def test_a_greedy_answer_that_fails_is_answered_by_its_repair(critic):
    broken, right = "SELECT name FROM singers", "SELECT name FROM singer"
    voter = critic_voter(critic)
    (plain,) = answer_by_vote([QUESTION], ScriptedWriter(broken, {broken: right}), voter, GREEDY)
    assert plain.sql == broken and plain.repair is None  # repair is asked for, not implied
    (answered,) = answer_by_vote(
        [QUESTION], ScriptedWriter(broken, {broken: right}), voter, GREEDY, repair_attempts=1
    )
    assert answered.sql == right and answered.greedy == broken
    assert answered.repair is not None and answered.repair.failed_sql == broken
    assert "no such table: singers" in answered.repair.error
    assert answered.vote is not None and answered.vote.executable == 1
    # A greedy answer that runs is kept as it is, and nothing is repaired.
    (fine,) = answer_by_vote([QUESTION], ScriptedWriter(right, {}), voter, GREEDY, repair_attempts=1)
    assert fine.sql == right and fine.repairs == [] and fine.vote is None


def test_the_repair_labels_benchmark_counts_labels_with_and_without_repairs(critic):
    from benchmarks.repair_labels import label_arms
    from shared.catalogue import Example

    broken, right = "SELECT nme FROM singer", "SELECT name FROM singer"
    examples = [
        Example("concert", "What are the names of all singers?", right, "train", "a", "easy"),
        Example(
            "concert",
            "List every singer's name.",
            "SELECT name FROM singer WHERE age > 40",
            "train",
            "b",
            "easy",
        ),
    ]
    sampling = Sampling(temperature=0.7, max_new_tokens=64)
    plain, repaired, figures = label_arms(
        examples, ScriptedWriter(broken, {broken: right}), critic, 3, sampling, 1
    )
    assert (plain.labelled, plain.right) == (0, 0)  # nothing runs without repair
    assert (repaired.labelled, repaired.right) == (2, 1)  # the repair labels both, right by the first gold
    assert (figures.questions, figures.samples, figures.failing_samples) == (2, 6, 6)
    assert (figures.repairs, figures.repairs_running) == (6, 6)  # each failing sample stood in for
