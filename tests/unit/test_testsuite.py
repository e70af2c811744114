"""Test suites: fuzzed variants respect the schema, are reproducible, and catch near-miss queries."""

from __future__ import annotations

import json
import sqlite3

import pytest

from services.critic.fuzzing import content_hash, fuzz_database
from services.critic.logic import Critic
from services.critic.neighbours import neighbours
from services.critic.sandbox_pool import SandboxPool
from services.critic.testsuite import SuiteStore
from shared.catalogue import Catalogue
from testbed.databases import make_concert_db

GOLD = [
    "SELECT count(*) FROM singer WHERE age > 40",
    "SELECT name FROM singer WHERE country = 'France' AND age < 50",
    "SELECT name, age FROM singer ORDER BY age DESC LIMIT 3",
    "SELECT max(age), min(age) FROM singer WHERE is_male = 1",
    "SELECT country, count(*) FROM singer GROUP BY country HAVING count(*) >= 5",
    "SELECT avg(capacity) FROM stadium WHERE capacity >= 10000",
    "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)",
    "SELECT T2.name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id GROUP BY T2.name",
    "SELECT concert_name FROM concert WHERE year > 2015 AND theme = 'Rock'",
    "SELECT sum(capacity) FROM stadium WHERE location = 'East Fife'",
    "SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer)",
    "SELECT theme, count(*) FROM concert GROUP BY theme ORDER BY count(*) DESC LIMIT 1",
    "SELECT DISTINCT T1.country FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.singer_id = T2.singer_id WHERE T1.age < 30",
    "SELECT year FROM concert WHERE year >= 2012 AND year <= 2014",
    "SELECT name FROM stadium ORDER BY average ASC LIMIT 2",
]


@pytest.fixture(scope="module")
def concert_catalogue(tmp_path_factory):
    root = tmp_path_factory.mktemp("ts")
    make_concert_db(root / "database" / "concert" / "concert.sqlite")
    (root / "dev.json").write_text(
        json.dumps([{"db_id": "concert", "question": f"q{i}", "query": q} for i, q in enumerate(GOLD)])
    )
    return Catalogue.load(root)


@pytest.fixture(scope="module")
def critic(concert_catalogue):
    critic = Critic(concert_catalogue, SandboxPool(workers=2))
    yield critic
    critic.close()


def test_variants_respect_keys_and_types(tmp_path, concert_catalogue):
    target = tmp_path / "variant.sqlite"
    fuzz_database(concert_catalogue.path("concert"), target, seed=7)
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for table, key in [("singer", "singer_id"), ("stadium", "stadium_id"), ("concert", "concert_id")]:
        total, distinct = connection.execute(
            f"SELECT count(*), count(DISTINCT {key}) FROM {table}"
        ).fetchone()
        assert total == distinct and total > 0
    pairs = connection.execute(
        "SELECT count(*), count(DISTINCT concert_id || '-' || singer_id) FROM singer_in_concert"
    ).fetchone()
    assert pairs[0] == pairs[1]
    ages = [r[0] for r in connection.execute("SELECT age FROM singer WHERE age IS NOT NULL")]
    assert all(isinstance(a, int) for a in ages)
    original = sqlite3.connect(concert_catalogue.path("concert"))
    assert (
        original.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        == connection.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    )


def test_variants_are_reproducible_from_the_seed(tmp_path, concert_catalogue):
    source = concert_catalogue.path("concert")
    fuzz_database(source, tmp_path / "a.sqlite", seed=3)
    fuzz_database(source, tmp_path / "b.sqlite", seed=3)
    fuzz_database(source, tmp_path / "c.sqlite", seed=4)
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(tmp_path / "a.sqlite") == dump(tmp_path / "b.sqlite")
    assert dump(tmp_path / "a.sqlite") != dump(tmp_path / "c.sqlite")


def test_neighbours_are_one_edit_away():
    found = neighbours(
        "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY age DESC LIMIT 3"
    )
    assert "SELECT name FROM singer WHERE age > 30 ORDER BY age DESC LIMIT 3" in found  # dropped predicate
    assert "SELECT name FROM singer WHERE age >= 30 AND country = 'France' ORDER BY age DESC LIMIT 3" in found
    assert "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY age ASC LIMIT 3" in found
    assert "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY age DESC LIMIT 4" in found
    assert "SELECT MIN(age) FROM singer" in neighbours("SELECT max(age) FROM singer")


def test_suite_distinguishes_neighbours_the_original_cannot(critic, concert_catalogue, tmp_path):
    store = SuiteStore(
        concert_catalogue, tmp_path / "suites", k=10, seed=0, distinguishes=critic.distinguishes
    )
    critic.suites = store
    variants = store.variants("concert")
    assert len(variants) == 10 and all(v.is_file() for v in variants)
    figures = store.manifest("concert")["figures"]
    original = str(concert_catalogue.path("concert"))
    schema = concert_catalogue.schema("concert")
    hard_pairs = [
        (g, n) for g in GOLD for n in neighbours(g, schema) if not critic.distinguishes(g, n, original)
    ]
    caught = [(g, n) for g, n in hard_pairs if any(critic.distinguishes(g, n, str(v)) for v in variants)]
    ratio = len(caught) / len(hard_pairs)
    print(
        f"\nTS: {len(hard_pairs)} neighbours look right on the original; the suite catches "
        f"{len(caught)} ({ratio:.0%}); builder figures {figures}"
    )
    assert len(hard_pairs) >= 10  # the check below means something only if the original misses some
    assert ratio >= 0.9, [pair for pair in hard_pairs if pair not in caught]
    # TS through the critic: gold matches itself on every database; a caught neighbour fails TS.
    assert critic.test_suite_match("concert", GOLD[0], GOLD[0])
    g, n = caught[0]
    assert critic.execution_match(original, g, n)[0] and not critic.test_suite_match("concert", g, n)


def test_suites_are_cached_on_disk_by_content_hash(concert_catalogue, tmp_path):
    first = SuiteStore(concert_catalogue, tmp_path, k=3, seed=1)
    paths = first.variants("concert")
    stamp = [p.stat().st_mtime_ns for p in paths]
    second = SuiteStore(concert_catalogue, tmp_path, k=3, seed=1)
    assert second.variants("concert") == paths
    assert [p.stat().st_mtime_ns for p in paths] == stamp  # reused, not rebuilt
    assert content_hash(concert_catalogue.path("concert"))[:16] in paths[0].parent.name
    assert not list(tmp_path.glob(".concert-*"))  # no half-built temp folders left behind


def test_a_refreshed_database_gets_a_suite_of_its_own(tmp_path):
    import os
    import shutil

    from shared.schema import introspect

    path = tmp_path / "dbs" / "concert" / "concert.sqlite"
    make_concert_db(path)
    suites = SuiteStore(Catalogue.load(tmp_path / "dbs"), tmp_path / "suites", k=2, seed=1)
    before = suites.variants("concert")
    fresh = path.with_name("fresh.tmp")  # a refresh writes a new file and swaps it in
    shutil.copy(path, fresh)
    with sqlite3.connect(fresh) as connection:
        connection.execute("ALTER TABLE singer ADD COLUMN nickname TEXT")
    os.replace(fresh, path)
    after = suites.variants("concert")  # the same SuiteStore: a long-running critic
    assert after[0].parent != before[0].parent
    assert "nickname" in {c.name for c in introspect(after[0]).table("singer").columns}
