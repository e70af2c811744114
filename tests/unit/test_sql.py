"""SQL utilities: Spider hardness (labels from Spider's dev set), canonical forms, DISTINCT removal."""

from __future__ import annotations

import pytest

from shared.sql import (
    SqlParseError,
    canonical,
    hardness,
    order_key_probe,
    parse,
    remove_distinct,
    ungrouped_order,
)

SPIDER_DEV_LABELS = [
    ("SELECT count(*) FROM singer", "easy"),
    ("SELECT DISTINCT country FROM singer WHERE age > 20", "easy"),
    ("SELECT name , country , age FROM singer ORDER BY age DESC", "medium"),
    ("SELECT avg(age) , min(age) , max(age) FROM singer WHERE country = 'France'", "medium"),
    ("SELECT song_name , song_release_year FROM singer ORDER BY age LIMIT 1", "medium"),
    ("SELECT country , count(*) FROM singer GROUP BY country", "medium"),
    ("SELECT LOCATION , name FROM stadium WHERE capacity BETWEEN 5000 AND 10000", "medium"),
    ("select max(capacity), average from stadium", "medium"),
    ("SELECT name , capacity FROM stadium ORDER BY average DESC LIMIT 1", "medium"),
    ("SELECT count(*) FROM concert WHERE YEAR = 2014 OR YEAR = 2015", "medium"),
    (
        "SELECT T2.name , count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id GROUP BY T1.stadium_id",
        "medium",
    ),
    ("SELECT name , country FROM singer WHERE song_name LIKE '%Hey%'", "medium"),
    ("SELECT song_name FROM singer WHERE age > (SELECT avg(age) FROM singer)", "hard"),
    ("SELECT YEAR FROM concert GROUP BY YEAR ORDER BY count(*) DESC LIMIT 1", "hard"),
    ("SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)", "hard"),
    ("SELECT country FROM singer WHERE age > 40 INTERSECT SELECT country FROM singer WHERE age < 30", "hard"),
    (
        "SELECT name FROM stadium EXCEPT SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id WHERE T1.year = 2014",
        "hard",
    ),
    (
        "SELECT T2.name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id JOIN concert AS T3 ON T1.concert_id = T3.concert_id WHERE T3.year = 2014",
        "hard",
    ),
    (
        "select count(*) from concert where stadium_id = (select stadium_id from stadium order by capacity desc limit 1)",
        "hard",
    ),
    (
        "SELECT T2.name , T2.capacity FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id WHERE T1.year >= 2014 GROUP BY T2.stadium_id ORDER BY count(*) DESC LIMIT 1",
        "extra",
    ),
    (
        "SELECT T2.name , T2.location FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id WHERE T1.Year = 2014 INTERSECT SELECT T2.name , T2.location FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id WHERE T1.Year = 2015",
        "extra",
    ),
]


@pytest.mark.parametrize(("sql", "label"), SPIDER_DEV_LABELS)
def test_hardness_matches_spider_labels(sql, label):
    assert hardness(sql) == label


def test_canonical_form_ignores_case_spacing_and_literal_values():
    a = canonical("SELECT name FROM Singer WHERE age > 30")
    b = canonical("select   NAME\nfrom singer where AGE > 41 -- comment")
    assert a == b == "select name from singer where age > ?"
    assert canonical("SELECT name FROM singer WHERE age < 30") != a
    assert canonical("SELECT name FROM singer WHERE age > 30", mask_literals=False).endswith("> 30")


def test_remove_distinct_like_the_official_evaluator():
    assert remove_distinct("SELECT DISTINCT a FROM t") == "SELECT  a FROM t"
    assert remove_distinct("SELECT count(DISTINCT a) FROM t") == "SELECT count( a) FROM t"
    assert remove_distinct("SELECT a FROM t WHERE b = 'distinct'") == "SELECT a FROM t WHERE b = 'distinct'"


@pytest.mark.parametrize("text", ["", "SELECT FROM WHERE (", "SELECT 1; SELECT 2", "(" * 5000])
def test_parse_errors_are_one_exception_type(text):
    with pytest.raises(SqlParseError):
        parse(text)


def test_canonical_or_text_never_raises_and_falls_back_to_normalised_text():
    from shared.sql import canonical, canonical_or_text

    assert canonical_or_text("SELECT name FROM singer WHERE age > 3") == canonical(
        "SELECT name FROM singer WHERE age > 3"
    )
    assert canonical_or_text("SELECT a FROM t WHERE b = 4", mask_literals=False) != canonical_or_text(
        "SELECT a FROM t WHERE b = 5", mask_literals=False
    )
    assert canonical_or_text("SELEC  broken\n(( FROM") == "selec broken (( from"


@pytest.mark.parametrize(
    "sql, term",
    [
        ("SELECT c, avg(f) FROM t GROUP BY c HAVING count(*) > 5 ORDER BY f DESC LIMIT 1", "f"),
        ("SELECT c FROM t GROUP BY c ORDER BY count(*) DESC, w", "w"),
        ("SELECT a FROM (SELECT c AS a FROM t GROUP BY c ORDER BY w) AS s", "w"),  # found in a subquery
        ("SELECT c, avg(f) FROM t GROUP BY c ORDER BY avg(f) DESC", ""),  # aggregated
        ("SELECT c, count(*) AS n FROM t GROUP BY c ORDER BY n", ""),  # a select alias
        ("SELECT c, count(*) FROM t GROUP BY c ORDER BY 2", ""),  # a position
        ("SELECT T1.c FROM t AS T1 GROUP BY T1.c ORDER BY c", ""),  # grouped, qualified or not
        (
            "SELECT T2.name FROM t AS T1 JOIN u AS T2 ON T1.k = T2.k GROUP BY T1.k ORDER BY T2.name",
            "",
        ),  # selected
        ("SELECT c FROM t ORDER BY w", ""),  # not grouped at all
    ],
)
def test_ungrouped_order_names_an_order_term_neither_grouped_aggregated_nor_selected(sql, term):
    assert ungrouped_order(parse(sql)) == term


@pytest.mark.parametrize(
    "sql, probe",
    [
        (
            "SELECT code FROM airport GROUP BY code ORDER BY count(*) DESC LIMIT 1",
            ("SELECT code, COUNT(*) FROM airport GROUP BY code ORDER BY COUNT(*) DESC", 1),
        ),
        (  # an alias is spelled out (a select list cannot refer to its own aliases); HAVING keeps it
            "SELECT p, sum(x) AS t FROM s GROUP BY p HAVING t > 2 ORDER BY t DESC, p LIMIT 5 OFFSET 1",
            ("SELECT p, SUM(x) AS t, SUM(x), p FROM s GROUP BY p HAVING t > 2 ORDER BY t DESC, p", 2),
        ),
        ("SELECT a, b FROM t ORDER BY 2 LIMIT 3", ("SELECT a, b, b FROM t ORDER BY 2", 1)),  # a position
        ("SELECT DISTINCT a FROM t ORDER BY a LIMIT 1", ("", 0)),  # extra columns would change DISTINCT
        ("SELECT a FROM t ORDER BY a", ("", 0)),  # no LIMIT: nothing is picked
        ("SELECT a FROM t LIMIT 1", ("", 0)),
        ("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 1", ("", 0)),
    ],
)
def test_order_key_probe_returns_every_row_with_its_sort_keys_last(sql, probe):
    assert order_key_probe(parse(sql)) == probe
