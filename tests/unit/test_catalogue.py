"""The database catalogue on real Spider-format and plain folders."""

from __future__ import annotations

import json
import shutil

import pytest

from shared.catalogue import Catalogue
from shared.schema import introspect
from testbed.databases import make_concert_db


def test_reads_a_spider_format_folder(spider_dir):
    catalogue = Catalogue.load(spider_dir)
    assert catalogue.db_ids == ["concert", "pets"]
    assert catalogue.splits == ["dev", "train"]
    dev = catalogue.examples("dev")
    assert len(dev) == 4 and dev[0].db_id == "concert" and dev[0].query == "SELECT count(*) FROM singer"
    assert len(catalogue.examples("train")) == 2
    with pytest.raises(KeyError, match="unknown split"):
        catalogue.examples("test")
    with pytest.raises(KeyError, match="unknown database"):
        catalogue.path("nope")


def test_reads_a_plain_folder_of_sqlite_files(tmp_path):
    make_concert_db(tmp_path / "a" / "music.sqlite")
    make_concert_db(tmp_path / "b" / "shows.db")
    (tmp_path / "notes.db").write_text("not a database")
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.db_ids == ["music", "shows"]
    assert catalogue.splits == []
    assert catalogue.schema("shows").table("singer").row_count == 30


def test_introspection_reads_keys_and_samples(spider_dir):
    schema = introspect(spider_dir / "database" / "concert" / "concert.sqlite", "concert")
    assert [t.name for t in schema.tables] == ["stadium", "singer", "concert", "singer_in_concert"]
    link = schema.table("singer_in_concert")
    assert link.primary_key == ("concert_id", "singer_id")
    assert {(f.column, f.ref_table, f.ref_column) for f in link.foreign_keys} == {
        ("concert_id", "concert", "concert_id"),
        ("singer_id", "singer", "singer_id"),
    }
    singer = schema.table("singer")
    assert singer.primary_key == ("singer_id",)
    assert len(singer.columns[1].sample_values) == 3


def test_prompt_text_shows_keys_and_sample_values(spider_dir):
    text = Catalogue.load(spider_dir).schema("concert").schema_text()
    assert "CREATE TABLE concert (" in text
    assert "  stadium_id INTEGER REFERENCES stadium(stadium_id)," in text
    assert "  PRIMARY KEY (concert_id, singer_id)" in text
    assert "  singer_id INTEGER PRIMARY KEY, -- e.g. 1, 2, 3" in text
    assert "name TEXT, -- e.g. 'Singer 1', 'Singer 2', 'Singer 3'" in text
    assert text.count("CREATE TABLE") == 4
    assert "-- e.g." not in Catalogue.load(spider_dir).schema("pets").schema_text(sample_values=0)


def test_database_files_are_not_modified_by_reading(spider_dir, tmp_path):
    copy = tmp_path / "concert.sqlite"
    shutil.copy(spider_dir / "database" / "concert" / "concert.sqlite", copy)
    before = copy.read_bytes()
    introspect(copy)
    assert copy.read_bytes() == before
    assert (
        not (tmp_path / "concert.sqlite-journal").exists() and not (tmp_path / "concert.sqlite-wal").exists()
    )


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Catalogue.load(tmp_path / "nowhere")


def test_questions_without_sql_are_a_split_from_jsonl_or_spider_json(spider_dir, tmp_path):
    root = tmp_path / "questions"
    shutil.copytree(spider_dir / "database", root / "database")
    (root / "log.jsonl").write_text(
        '{"db_id": "concert", "question": "How many singers are there?"}\n\n'
        '{"db_id": "concert", "question": "Oldest singer?", "id": "q7"}\n'
    )
    (root / "asked.json").write_text('[{"db_id": "concert", "question": "Which stadiums hold concerts?"}]')
    catalogue = Catalogue.load(root)
    log = catalogue.examples("log")
    assert [(e.question, e.query, e.id) for e in log] == [
        ("How many singers are there?", "", "log-0"),
        ("Oldest singer?", "", "q7"),
    ]
    assert catalogue.examples("asked")[0].query == ""
    (root / "broken.jsonl").write_text('{"db_id": "concert", "question": "fine"}\nnot json\n')
    with pytest.raises(ValueError, match="broken.jsonl:2"):
        Catalogue.load(root).examples("broken")


def test_a_run_over_a_malformed_question_file_is_refused_at_start_with_its_line(spider_dir, tmp_path):
    from services.controller.settings import RunSettings
    from services.controller.validation import validate_settings
    from shared.errors import InvalidArgument

    root = tmp_path / "questions"
    shutil.copytree(spider_dir / "database", root / "database")
    shutil.copy(spider_dir / "dev.json", root / "dev.json")
    (root / "train.jsonl").write_text('{"db_id": "pets", "question": "How many pets?"}\n{"db_id": \n')
    with pytest.raises(InvalidArgument, match="dataset: .*train.jsonl:2: not a JSON object"):
        validate_settings(RunSettings(mode="unlabelled", eval_split="dev"), Catalogue.load(root))


def test_a_run_with_an_unknown_constrain_is_refused_at_start(spider_dir, tmp_path):
    from services.controller.settings import RunSettings
    from services.controller.validation import validate_settings
    from shared.errors import InvalidArgument

    root = tmp_path / "split"  # held-out questions on concert, training on pets: a valid layout
    shutil.copytree(spider_dir / "database", root / "database")
    dev = [e for e in json.loads((spider_dir / "dev.json").read_text()) if e["db_id"] == "concert"]
    (root / "dev.json").write_text(json.dumps(dev))
    (root / "train.jsonl").write_text('{"db_id": "pets", "question": "How many pets?"}\n')
    catalogue = Catalogue.load(root)
    validate_settings(RunSettings(mode="unlabelled", constrain="full", db_ids=["pets"]), catalogue)
    with pytest.raises(
        InvalidArgument, match="constrain must be one of off, identifiers, full, got 'strict'"
    ):
        validate_settings(RunSettings(mode="unlabelled", constrain="strict", db_ids=["pets"]), catalogue)


def test_tables_whose_names_only_look_internal_are_read_and_fuzzed(tmp_path):
    import sqlite3

    from services.critic.fuzzing import fuzz_database

    path = tmp_path / "logs.sqlite"
    with sqlite3.connect(path) as connection:  # "_" is LIKE's wildcard and LIKE ignores case
        connection.execute('CREATE TABLE "sqlite3_imports" (id INTEGER PRIMARY KEY AUTOINCREMENT, file TEXT)')
        connection.execute('CREATE TABLE "SQLiteLogs" (id INTEGER PRIMARY KEY, line TEXT)')
        connection.execute("INSERT INTO sqlite3_imports (file) VALUES ('a.csv')")
    assert [t.name for t in introspect(path).tables] == [
        "sqlite3_imports",
        "SQLiteLogs",
    ]  # not sqlite_sequence
    fuzz_database(path, tmp_path / "variant.sqlite", seed=1)
    assert [t.name for t in introspect(tmp_path / "variant.sqlite").tables] == [
        "sqlite3_imports",
        "SQLiteLogs",
    ]


def test_names_sql_cannot_use_bare_are_quoted_in_the_prompts_schema(tmp_path):
    import sqlite3

    path = tmp_path / "people.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "team list" (id INTEGER PRIMARY KEY, "Home Town" TEXT, "%_Change" REAL)'
        )
        connection.execute(
            'CREATE TABLE person (id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES "team list"(id))'
        )
        connection.execute("INSERT INTO \"team list\" VALUES (1, 'Leeds', 0.5)")
    text = introspect(path).schema_text()
    assert 'CREATE TABLE "team list" (' in text and '"Home Town" TEXT' in text and '"%_Change" REAL' in text
    assert 'REFERENCES "team list"(id)' in text
    assert "CREATE TABLE person (" in text and "  team_id INTEGER" in text  # plain names stay bare
    with sqlite3.connect(path) as connection:  # what the prompt shows is SQL that runs
        assert connection.execute('SELECT "Home Town", "%_Change" FROM "team list"').fetchall() == [
            ("Leeds", 0.5)
        ]
