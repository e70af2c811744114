"""The offline label bench's column re-resolution (benchmarks/stored_labels.py): a qualified column
its table lacks moves to the one table of its scope that has it, and nothing else moves."""

from __future__ import annotations

from benchmarks.stored_labels import requalify

COLUMNS = {
    "enrollment": {"student_id", "course_id", "score"},
    "course": {"course_id", "title", "teacher_id"},
    "teacher": {"teacher_id", "name"},
    "student": {"student_id", "name"},
}


def test_a_column_on_the_wrong_alias_moves_to_the_table_that_has_it():
    sql = "SELECT T1.course_id, AVG(T2.score) FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id"
    assert requalify(sql, COLUMNS) == (
        "SELECT T1.course_id, AVG(T1.score) FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id"
    )


def test_inside_a_subquery_the_scope_is_the_subquery():
    sql = "SELECT name FROM student WHERE student_id IN (SELECT E.student_id FROM enrollment AS E JOIN course AS C ON E.course_id = C.course_id WHERE C.score > 5)"
    assert "E.score > 5" in requalify(sql, COLUMNS)


def test_nothing_moves_when_the_owner_is_ambiguous_missing_or_the_sql_is_right():
    ambiguous = "SELECT T1.name FROM course AS T1 JOIN teacher AS T2 ON T1.teacher_id = T2.teacher_id JOIN student AS T3"
    assert requalify(ambiguous, COLUMNS) is None  # teacher and student both have name
    missing = "SELECT T1.rating FROM course AS T1 JOIN enrollment AS T2 ON T1.course_id = T2.course_id"
    assert requalify(missing, COLUMNS) is None
    right = "SELECT T2.title FROM enrollment AS T1 JOIN course AS T2 ON T1.course_id = T2.course_id"
    assert requalify(right, COLUMNS) is None
    assert requalify("SELECT FROM WHERE (", COLUMNS) is None
