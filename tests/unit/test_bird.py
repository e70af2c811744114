"""BIRD-format datasets: the catalogue reads them, prompts show each question's evidence (and a
question without evidence keeps its prompt byte for byte), BIRD's set-based execution match, and
its prediction file."""

from __future__ import annotations

import json

import pytest

from services.critic.matching import results_match, set_results_match
from services.critic.predictions import load_prediction_set, write_bird_predictions
from shared.catalogue import Catalogue
from shared.prompts import Shot, sql_prompt
from testbed.databases import BIRD_EXAMPLES, make_bird_dir


@pytest.fixture
def bird(tmp_path):
    return make_bird_dir(tmp_path / "bird")


def test_the_catalogue_reads_a_bird_folder(bird):
    catalogue = Catalogue.load(bird)
    assert catalogue.db_ids == ["concert", "pets"]
    assert catalogue.splits == ["dev", "train"]  # dev_tables.json is not a split
    dev = catalogue.examples("dev")
    assert [(e.id, e.db_id, e.query, e.evidence, e.difficulty) for e in dev] == [
        (str(i), d, s, ev, level) for i, (d, _q, ev, s, level) in enumerate(BIRD_EXAMPLES)
    ]


def test_the_prompt_shows_evidence_after_the_question_and_nothing_when_there_is_none():
    plain = sql_prompt("db", "CREATE TABLE t (a INT);", "How many?")
    assert plain == sql_prompt("db", "CREATE TABLE t (a INT);", "How many?", evidence="  ")
    assert plain.endswith("-- Question: How many?\n-- SQL:")  # the layout of every prompt so far
    shot = Shot(
        "db",
        "CREATE TABLE t (a INT);",
        "Largest a?",
        "SELECT max(a) FROM t",
        "easy",
        "largest a\nrefers to MAX(a)",
    )
    prompt = sql_prompt(
        "db", "CREATE TABLE t (a INT);", "How many?", [shot], evidence="many refers to COUNT(*)"
    )
    assert (
        "-- Question: Largest a?\n-- Evidence: largest a refers to MAX(a)\n-- SQL: SELECT max(a) FROM t;"
        in prompt
    )
    assert prompt.endswith("-- Question: How many?\n-- Evidence: many refers to COUNT(*)\n-- SQL:")


def test_a_training_row_and_inference_send_the_same_prompt_with_evidence(bird):
    from services.generation.backends import Sampling
    from services.generation.logic import Generator
    from services.generation.requests import QuestionIn
    from shared.fewshot import few_shot_pool
    from shared.training_data import TrainingPair, render_rows
    from tests.support.backends import RecordingBackend

    catalogue = Catalogue.load(bird)
    question = catalogue.examples("dev")[2]
    backend = RecordingBackend()
    generator = Generator(catalogue, backend, few_shot_pool(catalogue, exclude="dev"))
    generator.generate_sql(
        [QuestionIn("q", question.db_id, question.question, question.evidence)],
        1,
        1,
        Sampling(temperature=0.0),
    )
    pair = TrainingPair(question.db_id, question.question, question.query, question.evidence)
    (row,) = render_rows([pair], catalogue, 1, few_shot_pool(catalogue, exclude="dev"))
    assert (
        backend.prompts == [row["prompt"]] and f"-- Evidence: {question.evidence}\n-- SQL:" in row["prompt"]
    )


def test_bird_match_compares_sets_with_column_order_kept():
    gold = [("France", 1), ("France", 1), ("Spain", 2)]
    assert set_results_match(gold, [("Spain", 2), ("France", 1)])  # order and duplicates ignored
    assert not results_match(gold, [("Spain", 2), ("France", 1)], ordered=False)  # Spider counts them
    assert not set_results_match(gold, [(1, "France"), (2, "Spain")])  # column order is significant
    assert results_match(gold, [(1, "France"), (1, "France"), (2, "Spain")], ordered=False)
    assert set_results_match([], []) and not set_results_match([("a",)], [])


def test_bird_prediction_files_round_trip(bird, tmp_path):
    path = tmp_path / "predict_dev.json"
    predicted = [s for _d, _q, _e, s, _l in BIRD_EXAMPLES]
    write_bird_predictions(["  SELECT\n 1", *predicted[1:]], [d for d, *_ in BIRD_EXAMPLES], path)
    raw = json.loads(path.read_text())
    assert raw["0"] == "SELECT 1\t----- bird -----\tconcert" and len(raw) == len(BIRD_EXAMPLES)
    loaded = load_prediction_set(bird / "dev.json", path)
    assert [p.predicted_sql for p in loaded] == ["SELECT 1", *predicted[1:]]
    assert [p.difficulty for p in loaded] == [level for *_, level in BIRD_EXAMPLES]
    assert [p.id for p in loaded] == [str(i) for i in range(len(BIRD_EXAMPLES))]
