"""Prompt builder (golden files), few-shot selection, and parsing of messy model output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.generation.parsing import extract_sql, parse_pair_completion, parse_sql_completion
from shared.catalogue import Catalogue, Example
from shared.fewshot import select_examples, shots_for
from shared.prompts import (
    ERROR_MARK,
    FAILED_MARK,
    MAX_ERROR_CHARS,
    SQL_MARK,
    Repair,
    pair_completion,
    pair_prompt,
    review_completion,
    review_context,
    review_prompt,
    schema_for_prompt,
    sql_completion,
    sql_prompt,
)
from tests.support.backends import RecordingBackend

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def _shots(spider_dir):
    catalogue = Catalogue.load(spider_dir)
    pool = [
        Example(
            "pets",
            "How many dogs are there?",
            "SELECT count(*) FROM pet WHERE kind = 'dog'",
            "seed",
            "p1",
            "easy",
        )
    ]
    return catalogue, shots_for(catalogue, select_examples(pool, "concert", 1))


def test_sql_prompt_golden(spider_dir):
    catalogue, shots = _shots(spider_dir)
    prompt = sql_prompt(
        "concert", schema_for_prompt(catalogue.schema("concert")), "Which stadiums have no concerts?", shots
    )
    _golden("sql_prompt.txt", prompt)
    assert "REFERENCES stadium(stadium_id)" in prompt and "PRIMARY KEY (concert_id, singer_id)" in prompt
    assert prompt.endswith("-- Question: Which stadiums have no concerts?\n-- SQL:")


def test_a_repair_prompt_is_the_sql_prompt_with_the_failing_attempt_and_its_error(spider_dir):
    catalogue, shots = _shots(spider_dir)
    schema = schema_for_prompt(catalogue.schema("concert"))
    question = "Which stadiums have no concerts?"
    plain = sql_prompt("concert", schema, question, shots)
    failing = "SELECT nme FROM stadium\n WHERE stadium_id NOT IN (SELECT stadium_id FROM concert);"
    error = "no such column: nme\n(at line 1)" + "x" * 1000
    repaired = sql_prompt("concert", schema, question, shots, repair=Repair(failing, error))
    head = plain.removesuffix(SQL_MARK)
    assert repaired.startswith(head)  # the shots and the question as a plain prompt has them
    tail = repaired.removeprefix(head)
    failed_line, error_line, mark = tail.split("\n")
    assert failed_line == (
        f"{FAILED_MARK} SELECT nme FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert);"
    )
    assert error_line.startswith(f"{ERROR_MARK} no such column: nme (at line 1)")
    assert len(error_line) == len(ERROR_MARK) + 1 + MAX_ERROR_CHARS  # one line, cut
    assert mark == SQL_MARK  # completed as any SQL prompt: ' <sql>;'


def test_review_prompt_golden(spider_dir):
    """A review reads a block backwards (SQL, then the question it answers): its text is what the
    model is asked to score, so it is fixed like the prompts it is written from."""
    catalogue, shots = _shots(spider_dir)
    head = review_prompt("concert", schema_for_prompt(catalogue.schema("concert")), shots)
    text = (
        head
        + review_context("SELECT name FROM stadium\n LIMIT 1;")
        + review_completion(" Name the stadiums. ")
    )
    _golden("review_prompt.txt", text)
    assert (
        "-- SQL: SELECT count(*) FROM pet WHERE kind = 'dog';\n-- Question: How many dogs are there?\n"
        in head
    )
    assert head.endswith("-- SQL:") and text.endswith(
        "-- SQL: SELECT name FROM stadium LIMIT 1;\n-- Question: Name the stadiums.\n"
    )


def test_pair_prompt_golden(spider_dir):
    catalogue, shots = _shots(spider_dir)
    prompt = pair_prompt("concert", schema_for_prompt(catalogue.schema("concert")), "hard", shots)
    _golden("pair_prompt.txt", prompt)
    assert prompt.endswith(
        "-- Complexity: hard (a nested subquery, INTERSECT / EXCEPT / UNION, or a three-table join)\n-- Question:"
    )
    with pytest.raises(ValueError, match="unknown hardness"):
        pair_prompt("concert", "", "impossible")


def test_training_text_round_trips_through_the_parser():
    sql = "SELECT name FROM singer WHERE age > 30 ;"
    assert parse_sql_completion(sql_completion(sql)).sql == "SELECT name FROM singer WHERE age > 30"
    parsed = parse_pair_completion(pair_completion("Which singers are over 30?", sql))
    assert (parsed.question, parsed.sql) == (
        "Which singers are over 30?",
        "SELECT name FROM singer WHERE age > 30",
    )


@pytest.mark.parametrize(
    ("completion", "sql"),
    [
        (" SELECT count(*) FROM singer;\n\n-- Question: next", "SELECT count(*) FROM singer"),
        (" SELECT name FROM t WHERE a = 'x;y'; trailing", "SELECT name FROM t WHERE a = 'x;y'"),
        ("```sql\nSELECT *\nFROM t\n```", "SELECT * FROM t"),
        (" select a -- note; not the end\n from t;", "select a -- note; not the end from t"),
        ("Sure! The query is: SELECT 1;", "SELECT 1"),
        (" WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"),
        (" SELECT a FROM t\n-- Question: another one", "SELECT a FROM t"),
    ],
)
def test_extracts_the_first_complete_statement(completion, sql):
    assert parse_sql_completion(completion).sql == sql


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        ("", "no SELECT"),
        (" I don't know.", "no SELECT"),
        ("\u0000\ufffd garbage", "no SELECT"),
    ],
)
def test_unusable_output_is_dropped_with_a_reason(completion, reason):
    parsed = parse_sql_completion(completion)
    assert not parsed.ok and reason in parsed.reason


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        (" How many singers?", "no '-- SQL:'"),
        ("\n-- SQL: SELECT 1;", "empty question"),
        (" SELECT 1\n-- SQL: SELECT 1;", "question is SQL"),
        (" How many?\n-- SQL: no query here", "no SELECT"),
        (" " + "why " * 200 + "\n-- SQL: SELECT 1;", "longer than 400"),
    ],
)
def test_pair_parsing_failures(completion, reason):
    parsed = parse_pair_completion(completion)
    assert not parsed.ok and reason in parsed.reason


def test_extract_sql_never_raises_on_junk():
    """Junk gets a reason, never an exception; what does come out is one statement without ';'."""
    for junk in ["'", "SELECT '", ";;;;", "SELECT " + "(" * 1000, "\x00SELECT"]:
        parsed = extract_sql(junk)
        assert parsed.ok or parsed.reason, junk
        assert ";" not in parsed.sql
    assert not extract_sql(";;;;").ok and "no SELECT" in extract_sql(";;;;").reason


POOL = [
    Example("a", "qa-easy", "SELECT 1 FROM t", "seed", "a1", "easy"),
    Example("a", "qa-hard", "SELECT 1 FROM t", "seed", "a2", "hard"),
    Example("b", "qb-easy", "SELECT 1 FROM t", "seed", "b1", "easy"),
    Example("b", "qb-extra", "SELECT 1 FROM t", "seed", "b2", "extra"),
    Example("c", "qc-hard", "SELECT 1 FROM t", "seed", "c1", "hard"),
    Example("c", "qc-medium", "SELECT 1 FROM t", "seed", "c2", "medium"),
]


def test_few_shot_selection_avoids_the_target_database_and_prefers_similar_hardness():
    chosen = select_examples(POOL, "a", 2, "hard", seed=0)
    assert all(e.db_id != "a" for e in chosen)
    assert chosen[0].id == "c1"  # the only other-database hard example comes first
    assert {e.db_id for e in chosen} == {"b", "c"}  # one per database while others remain
    assert select_examples(POOL, "a", 2, "hard", seed=0) == chosen  # deterministic
    keys = {tuple(e.id for e in select_examples(POOL, "z", 3, seed=s, key="q")) for s in range(10)}
    assert len(keys) > 1  # the seed changes ties
    assert select_examples(POOL, "a", 0) == []
    assert len(select_examples(POOL, "a", 10)) == 4  # never more than the other databases have


@pytest.mark.parametrize("k", [0, 2])
@pytest.mark.parametrize("with_seed_split", [True, False])
def test_a_training_row_holds_the_exact_prompt_inference_sends(tmp_path, k, with_seed_split):
    """Same pool, same selection key, same template: byte for byte, with or without a seed split,
    whatever the sampling seed of the request."""
    from services.generation.backends import Sampling
    from services.generation.logic import Generator
    from services.generation.requests import QuestionIn
    from shared.bundled.build import build
    from shared.fewshot import few_shot_pool
    from shared.training_data import TrainingPair, render_rows

    dataset = build(tmp_path / "bundled")
    if not with_seed_split:
        (dataset / "seed.json").unlink()
    catalogue = Catalogue.load(dataset)
    assert ("seed" in catalogue.split_files) == with_seed_split
    question = catalogue.examples("train")[3]
    backend = RecordingBackend()
    generator = Generator(catalogue, backend, few_shot_pool(catalogue))
    generator.generate_sql(
        [QuestionIn("q", question.db_id, question.question)], 1, k, Sampling(temperature=0.7, seed=1234)
    )
    (row,) = render_rows([TrainingPair(question.db_id, question.question, question.query)], catalogue, k)
    assert backend.prompts == [row["prompt"]]
    assert row["prompt"].count("-- Database:") == k + 1


def test_example_sets_spread_a_questions_samples_over_other_examples(tmp_path):
    """Set 0 is the prompt every caller sends; another set differs in its examples alone; n is split
    over the sets, each drawn with a seed of its own; with no examples there is one prompt."""
    from services.generation.backends import Sampling
    from services.generation.logic import Generator
    from services.generation.requests import QuestionIn
    from shared.bundled.build import build
    from shared.errors import InvalidArgument
    from shared.fewshot import few_shot_pool
    from shared.limits import MAX_QUESTIONS, MAX_SAMPLES

    catalogue = Catalogue.load(build(tmp_path / "bundled"))
    first, second = catalogue.examples("train")[3], catalogue.examples("train")[4]
    questions = [QuestionIn("a", first.db_id, first.question), QuestionIn("b", second.db_id, second.question)]
    sampling = Sampling(temperature=0.7, seed=7)

    one = RecordingBackend()
    Generator(catalogue, one, few_shot_pool(catalogue)).generate_sql(questions[:1], 5, 2, sampling)
    spread = RecordingBackend()
    results, _ = Generator(catalogue, spread, few_shot_pool(catalogue)).generate_sql(
        questions, 5, 2, sampling, example_sets=2
    )
    by_question = {
        q.id: [
            (p, n, seed)
            for prompts, n, seed in spread.calls
            for p in prompts
            if p.endswith(f"-- Question: {q.question}\n-- SQL:")
        ]
        for q in questions
    }
    (set0, n0, seed0), (set1, n1, seed1) = by_question["a"]
    assert set0 == one.prompts[0] and (n0, seed0) == (3, 7)  # set 0 takes the remainder
    assert n1 == 2 and seed1 > 7 + MAX_QUESTIONS * MAX_SAMPLES - 1  # past any per-sample seed of set 0
    assert set1 != set0
    schema = set0[set0.rindex(f"-- Database: {first.db_id}") :]
    assert set1.endswith(schema)  # same schema and question; the examples differ
    assert len(by_question["b"]) == 2
    # Each question's results are its own: set 0's samples, then set 1's (the recorder's outputs
    # name their call, prompt and sample).
    for q, result in zip(questions, results, strict=True):
        expected = [
            f"SELECT {call}, {prompts.index(p)}, {i}"
            for call, (prompts, n, _seed) in enumerate(spread.calls, start=1)
            for p in prompts
            if p.endswith(f"-- Question: {q.question}\n-- SQL:")
            for i in range(n)
        ]
        assert result.sql == expected and len(expected) == 5

    no_examples = RecordingBackend()
    results, _ = Generator(catalogue, no_examples, few_shot_pool(catalogue)).generate_sql(
        questions[:1], 5, 0, sampling, example_sets=3
    )
    assert [(len(prompts), n) for prompts, n, _seed in no_examples.calls] == [(1, 5)] and len(
        results[0].sql
    ) == 5

    for bad in (-1, 9):
        with pytest.raises(InvalidArgument, match=r"example_sets must be within \[1, 8\]"):
            Generator(catalogue, RecordingBackend(), few_shot_pool(catalogue)).generate_sql(
                questions, 2, 2, sampling, example_sets=bad
            )
