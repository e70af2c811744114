"""Ask, through the real stack (generation's model server is the scripted TGI fake, which answers
train questions with their gold SQL): the answer's SQL, its result from the critic's sandbox, the
vote of its samples, bad input, hostile SQL, and the CLI as a user runs it."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import grpc
import pytest
from sqlalchemy import select

from shared.catalogue import Catalogue
from shared.config import REPO_ROOT as REPO
from shared.grpc_client import make_channel
from shared.pb import controller_pb2, controller_pb2_grpc, critic_pb2
from shared.pbconvert import from_result_set
from shared.store import AskedQuestion, Store
from testbed.scripted_stack import SERVICES, make_stack
from testbed.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask")
    stack = make_stack(root, make_tiny_model(root / "tiny"))
    for name in SERVICES:
        stack.start(name)
    yield stack
    stack.stop()


def _cli(stack, *args: str) -> subprocess.CompletedProcess:
    """`sqldistill ...` as a user runs it, against the stack."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**stack.env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ask_writes_sql_with_the_serving_version_and_runs_it_in_the_sandbox(stack):
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    catalogue = Catalogue.load(stack.dataset)
    example = next(e for e in catalogue.examples("train") if "ORDER BY" not in e.query.upper())
    with sqlite3.connect(catalogue.path(example.db_id)) as connection:
        expected = [tuple(r) for r in connection.execute(example.query).fetchall()]
    assert expected, "the fixture question should have rows"

    answer = stub.Ask(
        controller_pb2.AskRequest(question=example.question, db_id=example.db_id, samples=3, max_rows=2),
        timeout=120,
    )
    assert answer.status == critic_pb2.EXECUTION_STATUS_OK, answer.error
    assert answer.sql.rstrip("; ") == example.query.rstrip("; ")
    assert answer.version == "base"  # what a fresh stack serves
    assert answer.few_shot_k == 2  # a base model is asked with the base prompt
    assert (answer.samples, answer.agreement_votes, answer.executable) == (4, 4, 4)
    assert answer.row_count == len(expected)
    assert [tuple(r) for r in from_result_set(answer.result)] == expected[:2]
    assert answer.result.truncated == (len(expected) > 2)

    # Bad input: a clear status, nothing else.
    for request, code, text in (
        (controller_pb2.AskRequest(question=" ", db_id=example.db_id), "INVALID_ARGUMENT", "empty"),
        (controller_pb2.AskRequest(question="x" * 100_000, db_id=example.db_id), "INVALID_ARGUMENT", "limit"),
        (controller_pb2.AskRequest(question="How many?", db_id="no_such_db"), "NOT_FOUND", "no_such_db"),
        (
            controller_pb2.AskRequest(question="How many?", db_id=example.db_id, samples=1000),
            "INVALID_ARGUMENT",
            "samples",
        ),
        (
            controller_pb2.AskRequest(question="How many?", db_id=example.db_id, version="nope"),
            "NOT_FOUND",
            "nope",
        ),
    ):
        with pytest.raises(grpc.RpcError) as info:
            stub.Ask(request, timeout=60)
        assert info.value.code().name == code and text in info.value.details(), info.value.details()

    # A hostile answer: a verdict from the sandbox, the database file untouched.
    db = catalogue.path(example.db_id)
    before = _digest(db)
    with sqlite3.connect(db) as connection:
        table = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    hostile = stub.Ask(
        controller_pb2.AskRequest(question=f"Please drop the {table} table.", db_id=example.db_id), timeout=60
    )
    assert hostile.status != critic_pb2.EXECUTION_STATUS_OK and hostile.error  # not even SQL to run
    loading = stub.Ask(
        controller_pb2.AskRequest(question="Please load an extension.", db_id=example.db_id), timeout=60
    )
    assert "load_extension" in loading.sql  # the sandbox ran it, and refused
    assert loading.status in (critic_pb2.EXECUTION_STATUS_DENIED, critic_pb2.EXECUTION_STATUS_ERROR)
    assert loading.error and loading.row_count == 0
    assert _digest(db) == before

    # Every answered question is in the question log under the id its reply shows, hostile ones too;
    # a refused request (bad input) has no answer and is not.
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            logged = {q.id: q for q in s.scalars(select(AskedQuestion))}
    finally:
        store.close()
    asked = {
        answer.answer_id: example.question,
        hostile.answer_id: f"Please drop the {table} table.",
        loading.answer_id: "Please load an extension.",
    }
    for reply in (answer, hostile, loading):
        row = logged[reply.answer_id]
        assert (row.question, row.db_id, row.sql, row.version) == (
            asked[reply.answer_id],
            example.db_id,
            reply.sql,
            reply.version,
        )
        assert (row.samples, row.row_count, row.error) == (reply.samples, reply.row_count, reply.error)
    assert logged[answer.answer_id].status == "ok" and logged[answer.answer_id].agreement_votes == 4
    assert logged[loading.answer_id].status != "ok"
    assert not any(q.db_id == "no_such_db" for q in logged.values())

    # The CLI, as a user runs it.
    shown = _cli(stack, "ask", example.question, "--db", example.db_id, "--samples", "2", "--rows", "1")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "3 of 3 samples agree" in shown.stdout and f"{len(expected)} row" in shown.stdout
    refused = _cli(stack, "ask", "How many?", "--db", "no_such_db")
    assert refused.returncode == 1 and "NOT_FOUND" in refused.stdout and "Traceback" not in refused.stderr


def test_an_answer_that_fails_is_repaired_with_the_database_error_and_says_so(stack):
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    catalogue = Catalogue.load(stack.dataset)
    example = next(e for e in catalogue.examples("train") if "ORDER BY" not in e.query.upper())
    script = stack.fake.responder

    def fails_first(prompt: str, parameters: dict) -> str:
        text = script(prompt, parameters)
        if "-- Failed SQL:" in prompt.rsplit("-- Database:", 1)[1]:
            return text  # shown its error, the model writes the question's SQL
        return f" SELECT * FROM ({text.strip().rstrip(';')}) WHERE no_such_column IS NULL;"

    stack.fake.responder = fails_first
    try:
        asked = controller_pb2.AskRequest(question=example.question, db_id=example.db_id, repair_attempts=1)
        answer = stub.Ask(asked, timeout=120)
        assert answer.status == critic_pb2.EXECUTION_STATUS_OK, answer.error
        assert answer.sql.rstrip("; ") == example.query.rstrip("; ")
        assert "no_such_column" in answer.repaired_sql and "no such column" in answer.repaired_error
        unrepaired = stub.Ask(  # the default: no repair
            controller_pb2.AskRequest(question=example.question, db_id=example.db_id), timeout=120
        )
        assert unrepaired.status == critic_pb2.EXECUTION_STATUS_ERROR and "no_such_column" in unrepaired.sql
        assert not unrepaired.repaired_sql
        with pytest.raises(grpc.RpcError) as info:
            stub.Ask(
                controller_pb2.AskRequest(question=example.question, db_id=example.db_id, repair_attempts=99),
                timeout=60,
            )
        assert info.value.code().name == "INVALID_ARGUMENT" and "repair_attempts" in info.value.details()
        shown = _cli(stack, "ask", example.question, "--db", example.db_id, "--repair", "1")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert (
            "repaired: SELECT * FROM" in shown.stdout and "which failed with: no such column" in shown.stdout
        )
    finally:
        stack.fake.responder = script


def test_the_question_log_lists_and_forgets_what_was_asked(stack):
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    catalogue = Catalogue.load(stack.dataset)
    first, second = catalogue.examples("train")[:2]
    kept = stub.Ask(controller_pb2.AskRequest(question=first.question, db_id=first.db_id), timeout=120)
    gone = stub.Ask(controller_pb2.AskRequest(question=second.question, db_id=second.db_id), timeout=120)
    listed = _cli(stack, "questions", "list", "--db", second.db_id, "--limit", "500")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert gone.answer_id in listed.stdout and kept.answer_id in listed.stdout  # the same database
    assert _cli(stack, "questions", "forget", gone.answer_id).stdout.strip() == "forgot 1 question"
    after = _cli(stack, "questions", "list", "--limit", "500").stdout
    assert gone.answer_id not in after and kept.answer_id in after
    nothing = _cli(stack, "questions", "forget")
    assert nothing.returncode == 2 and "say which questions to forget" in nothing.stdout
    assert "Traceback" not in nothing.stderr
    everything = _cli(stack, "questions", "forget", "--before", "2999-01-01")
    assert everything.returncode == 0 and everything.stdout.startswith("forgot ")
    assert kept.answer_id not in _cli(stack, "questions", "list", "--limit", "500").stdout
