"""The bundled benchmark: databases, questions and splits are what the docs promise."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from shared.bundled.build import build, is_current
from shared.catalogue import Catalogue
from shared.sql import hardness


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bundled") / "bundled")


@pytest.fixture(scope="module")
def catalogue(bundled):
    return Catalogue.load(bundled)


def _all_examples(catalogue):
    return [e for split in ("seed", "train", "dev") for e in catalogue.examples(split)]


def test_ten_databases_with_keys(catalogue):
    assert len(catalogue.db_ids) >= 10
    for db_id in catalogue.db_ids:
        schema = catalogue.schema(db_id)
        assert 3 <= len(schema.tables) <= 8, db_id
        assert all(t.primary_key for t in schema.tables), db_id
        assert sum(len(t.foreign_keys) for t in schema.tables) >= 2, db_id
        assert all(t.row_count >= 8 for t in schema.tables), db_id
        connection = sqlite3.connect(catalogue.path(db_id))
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == [], db_id


def test_every_gold_query_executes_and_returns_rows(catalogue):
    examples = _all_examples(catalogue)
    assert len(examples) >= 300
    for example in examples:
        connection = sqlite3.connect(f"file:{catalogue.path(example.db_id)}?mode=ro", uri=True)
        rows = connection.execute(example.query).fetchall()
        assert rows and any(v is not None for row in rows for v in row), example.id


def test_splits_are_database_disjoint_and_sized(catalogue):
    dbs = {split: {e.db_id for e in catalogue.examples(split)} for split in ("seed", "train", "dev")}
    assert dbs["dev"].isdisjoint(dbs["train"] | dbs["seed"])
    assert dbs["seed"] <= dbs["train"]
    sizes = {split: len(catalogue.examples(split)) for split in ("seed", "train", "dev")}
    assert sizes == {"seed": 28, "train": 182, "dev": 90}


def test_hardness_labels_match_the_computed_hardness(catalogue):
    examples = _all_examples(catalogue)
    assert [e.id for e in examples if e.hardness != hardness(e.query)] == []
    levels = Counter(e.hardness for e in examples)
    assert all(levels[level] >= 40 for level in ("easy", "medium", "hard", "extra")), levels


def test_no_duplicate_questions(catalogue):
    questions = [e.question.lower() for e in _all_examples(catalogue)]
    assert len(questions) == len(set(questions))
    ids = [e.id for e in _all_examples(catalogue)]
    assert len(ids) == len(set(ids))


def test_build_is_deterministic_and_versioned(bundled, tmp_path):
    again = build(tmp_path / "again")
    assert is_current(again)
    for name in ("tables.json", "train.json", "dev.json", "seed.json"):
        assert (again / name).read_text() == (bundled / name).read_text()
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(again / "database" / "hr" / "hr.sqlite") == dump(bundled / "database" / "hr" / "hr.sqlite")
    tables = json.loads((again / "tables.json").read_text())
    assert {t["db_id"] for t in tables} == {p.name for p in (again / "database").iterdir()}
    (again / "VERSION").write_text("0")
    assert not is_current(again)


def test_the_data_files_build_the_recorded_bytes(tmp_path):
    """The same database bytes, split files and question ids as the build recorded in
    tests/golden/bundled_hashes.json (made before the questions moved from Python into JSONL)."""
    import hashlib

    recorded = json.loads(
        (Path(__file__).resolve().parents[1] / "golden" / "bundled_hashes.json").read_text()
    )
    dest = build(tmp_path / "bundled")
    built = {
        str(p.relative_to(dest)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name not in ("VERSION", "README.md")
    }
    assert built == recorded


def test_the_build_version_follows_the_content(tmp_path, monkeypatch):
    from shared.bundled import build as builder

    dest = build(tmp_path / "bundled")
    assert is_current(dest)
    data = tmp_path / "data"
    shutil.copytree(builder.DATA, data)
    monkeypatch.setattr(builder, "DATA", data)
    assert is_current(dest)  # same content, same version
    questions = data / "questions" / "library.jsonl"
    questions.write_text(questions.read_text().replace("How many", "How  many", 1))
    assert not is_current(dest)  # any edit to the data makes the copy stale


def test_a_question_without_an_id_or_split_is_refused(tmp_path, monkeypatch):
    from shared.bundled import build as builder

    data = tmp_path / "data"
    shutil.copytree(builder.DATA, data)
    monkeypatch.setattr(builder, "DATA", data)
    (data / "questions" / "library.jsonl").write_text(
        '{"question": "q", "query": "SELECT 1", "hardness": "easy"}\n'
    )
    with pytest.raises(ValueError, match="needs an id"):
        builder.load_questions("library")


def test_every_database_file_is_listed_and_every_generator_resolves():
    from shared.bundled.databases import FOLDER, database_ids, load_tables
    from shared.bundled.derivations import DERIVATIONS

    files = {p.stem for p in FOLDER.glob("*.yaml")} - {"index"}
    assert set(database_ids()) == files and len(database_ids()) == len(files)
    used = set()
    for db_id in database_ids():
        tables = load_tables(db_id)
        assert tables and all(t.rows > 0 and t.columns for t in tables)
        used |= {c.gen for t in tables for c in t.columns if c.gen in DERIVATIONS.values()}
    assert used == set(DERIVATIONS.values())  # no derivation left unused
