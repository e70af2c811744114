"""Self-instruct coverage: focuses per table and foreign-key join path of a fixture database, their
rotation over rounds, the focus line of pair prompts, and the near-duplicate filter."""

from __future__ import annotations

from collections import namedtuple

from services.controller.coverage import drop_near_duplicates, focuses, interleave, rotate
from shared.catalogue import Catalogue
from shared.prompts import TABLES_MARK, Shot, pair_prompt, tables_of

Pair = namedtuple("Pair", "question sql")


def test_every_table_and_every_join_path_is_a_focus_once(spider_dir):
    schema = Catalogue.load(spider_dir).schema("concert")
    plan = focuses(schema)
    tables = {t.name for t in schema.tables}
    assert {f[0] for f in plan if len(f) == 1} == tables
    joins = {frozenset(f) for f in plan if len(f) == 2}
    # concert -> stadium, singer_in_concert -> concert, singer_in_concert -> singer
    assert joins == {
        frozenset({"concert", "stadium"}),
        frozenset({"singer_in_concert", "concert"}),
        frozenset({"singer_in_concert", "singer"}),
    }
    assert len(plan) == len(set(plan))


def test_rotation_starts_elsewhere_and_covers_everything():
    plan = [("a",), ("b",), ("c",)]
    assert rotate(plan, 1) == [("b",), ("c",), ("a",)]
    assert rotate(plan, 4) == rotate(plan, 1)
    assert sorted(rotate(plan, 2)) == sorted(plan)
    assert rotate([], 3) == []


def test_a_focused_pair_prompt_names_the_tables_of_every_block():
    shot = Shot("pets", "CREATE TABLE pet (id INT);", "How many pets?", "SELECT count(*) FROM pet", "easy")
    focused = pair_prompt("concert", "CREATE TABLE singer (id INT);", "medium", [shot], ("singer", "concert"))
    assert f"{TABLES_MARK} pet\n-- Question: How many pets?" in focused
    assert focused.endswith(f"{TABLES_MARK} singer, concert\n-- Question:")
    plain = pair_prompt("concert", "CREATE TABLE singer (id INT);", "medium", [shot])
    assert TABLES_MARK not in plain
    assert tables_of("SELECT a FROM x JOIN y ON x.id = y.id") == ("x", "y")
    assert tables_of("not sql at all ((") == ()


def test_near_duplicates_are_dropped_against_this_round_and_earlier_ones():
    pairs = [
        Pair("How many singers?", "SELECT count(*) FROM singer"),
        Pair("how many singers", "SELECT count(singer_id) FROM singer"),  # same question
        Pair("Count the singers.", "select  COUNT(*) from singer"),  # same SQL
        Pair("Oldest singer?", "SELECT name FROM singer ORDER BY age DESC LIMIT 1"),
        Pair("Singers older than 30?", "SELECT name FROM singer WHERE age > 30"),
        Pair("Singers older than 40?", "SELECT name FROM singer WHERE age > 40"),  # literals differ: kept
    ]
    kept = drop_near_duplicates(pairs, earlier=[("Oldest singer", "SELECT 1")])
    assert [p.question for p in kept] == [
        "How many singers?",
        "Singers older than 30?",
        "Singers older than 40?",
    ]


def test_levels_interleave_so_any_prefix_keeps_the_mix():
    assert interleave([("easy", 3), ("hard", 1), ("extra", 2)]) == [
        "easy",
        "hard",
        "extra",
        "easy",
        "extra",
        "easy",
    ]
    assert interleave([]) == []
