"""Ask, through the real stack (generation's model server is the scripted TGI fake, which answers
train questions with their gold SQL): the answer's SQL, its result from the critic's sandbox, the
vote of its samples, bad input, hostile SQL, and the CLI as a user runs it; the question log it
writes (feedback, imports, forgetting); and a source database registered while the stack runs,
asked on its snapshot and on the source itself. Past 300 lines: its tests share one running stack."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
import time

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
from tests.support.run_specs import run_spec


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask")
    stack = make_stack(root, make_tiny_model(root / "tiny"))
    stack.base = root / "tiny"
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


def _answerable(catalogue: Catalogue, skip: int) -> list:
    """Train questions whose gold SQL returns rows in any order: the scripted model answers them."""
    chosen = []
    for e in catalogue.examples("train"):
        if "ORDER BY" in e.query.upper():
            continue
        with sqlite3.connect(catalogue.path(e.db_id)) as connection:
            if connection.execute(e.query).fetchall():
                chosen.append(e)
    return chosen[skip:]


def _logged(stack, answer_id: str) -> AskedQuestion | None:
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            row = s.get(AskedQuestion, answer_id)
            if row is not None:
                s.expunge(row)
            return row
    finally:
        store.close()


def test_feedback_marks_answers_and_a_correction_runs_in_the_sandbox_before_it_labels(stack):
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    catalogue = Catalogue.load(stack.dataset)
    first, second = _answerable(catalogue, 10)[:2]
    right = stub.Ask(
        controller_pb2.AskRequest(question=first.question, db_id=first.db_id, asked_by="ana"), timeout=120
    )
    reply = stub.Feedback(
        controller_pb2.FeedbackRequest(
            answer_id=right.answer_id, verdict=controller_pb2.FEEDBACK_VERDICT_RIGHT, given_by="ana"
        ),
        timeout=60,
    )
    assert reply.verdict == controller_pb2.FEEDBACK_VERDICT_RIGHT and reply.gold_sql == right.sql
    row = _logged(stack, right.answer_id)
    assert (row.feedback, row.gold_sql, row.feedback_by, row.asked_by) == ("right", right.sql, "ana", "ana")

    # Asked again, and this answer (the same SQL) marked wrong: that SQL labels the question on no
    # answer any more, the one marked right before included.
    again = stub.Ask(controller_pb2.AskRequest(question=first.question, db_id=first.db_id), timeout=120)
    assert again.answer_id != right.answer_id and again.sql == right.sql
    stub.Feedback(
        controller_pb2.FeedbackRequest(
            answer_id=again.answer_id, verdict=controller_pb2.FEEDBACK_VERDICT_WRONG
        ),
        timeout=60,
    )
    assert (_logged(stack, again.answer_id).feedback, _logged(stack, again.answer_id).gold_sql) == (
        "wrong",
        None,
    )
    row = _logged(stack, right.answer_id)
    assert (row.feedback, row.gold_sql) == ("right", None)

    # An answer that returned no rows, marked right: the mark is kept, but it labels nothing (any
    # query that returns nothing would match it).
    store = Store.open(stack.store_url)
    with store.session() as s:
        s.add(
            AskedQuestion(
                id="answer-without-rows",
                db_id=first.db_id,
                question="Which rows match nothing?",
                version="base",
                few_shot_k=2,
                sql=f"SELECT * FROM ({first.query.strip().rstrip(';')}) WHERE 1 = 0",
                samples=1,
                agreement_votes=1,
                executable=1,
                status="ok",
                row_count=0,
                elapsed_ms=1.0,
            )
        )
    store.close()
    marked = _cli(stack, "feedback", "answer-without-rows", "--right")
    assert marked.returncode == 0 and "not a label" in marked.stdout, marked.stdout + marked.stderr
    row = _logged(stack, "answer-without-rows")
    assert (row.feedback, row.gold_sql) == ("right", None)

    # A correction, through the CLI: run in the sandbox, then the question's SQL.
    asked = stub.Ask(controller_pb2.AskRequest(question=second.question, db_id=second.db_id), timeout=120)
    corrected = f"SELECT * FROM ({second.query.strip().rstrip(';')})"
    given = _cli(stack, "feedback", asked.answer_id, "--sql", corrected, "--note", "a subquery", "--by", "bo")
    assert given.returncode == 0, given.stdout + given.stderr
    assert f"answer {asked.answer_id}: wrong" in given.stdout and "rows in the sandbox" in given.stdout
    row = _logged(stack, asked.answer_id)
    assert (row.feedback, row.gold_sql, row.feedback_note, row.feedback_by) == (
        "wrong",
        corrected,
        "a subquery",
        "bo",
    )

    listed = _cli(stack, "questions", "list", "--labelled", "--limit", "500").stdout
    assert asked.answer_id in listed and right.answer_id not in listed
    assert again.answer_id in _cli(stack, "questions", "list", "--feedback", "wrong", "--limit", "500").stdout

    # What cannot be a label is refused with the reason, and changes neither the log nor the database.
    database = catalogue.path(second.db_id)
    before = _digest(database)
    for sql, reason in (
        (f"DROP TABLE {_a_table(database)}", "refused"),
        ("SELECT no_such_column FROM sqlite_master", "does not run"),
        (f"SELECT * FROM ({second.query.strip().rstrip(';')}) WHERE 1 = 0", "returns no rows"),
    ):
        with pytest.raises(grpc.RpcError) as info:
            stub.Feedback(
                controller_pb2.FeedbackRequest(answer_id=asked.answer_id, corrected_sql=sql), timeout=60
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in info.value.details(), sql
    assert _digest(database) == before
    assert _logged(stack, asked.answer_id).gold_sql == corrected

    for request, code in (
        (controller_pb2.FeedbackRequest(answer_id="no-such-answer", verdict=1), grpc.StatusCode.NOT_FOUND),
        (
            controller_pb2.FeedbackRequest(answer_id=asked.answer_id, verdict=7),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (controller_pb2.FeedbackRequest(answer_id=asked.answer_id), grpc.StatusCode.INVALID_ARGUMENT),
        (
            controller_pb2.FeedbackRequest(answer_id=asked.answer_id, verdict=1, note="x" * 5000),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ):
        with pytest.raises(grpc.RpcError) as info:
            stub.Feedback(request, timeout=60)
        assert info.value.code() == code, request
    unknown = _cli(stack, "feedback", "no-such-answer", "--right")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stdout and "Traceback" not in unknown.stderr


def _a_table(database) -> str:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchone()[0]


def test_imported_questions_join_the_log_once_and_their_sql_is_checked_first(stack, tmp_path):
    catalogue = Catalogue.load(stack.dataset)
    one, two, three = _answerable(catalogue, 20)[:3]
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(record)
            for record in (
                {"question": one.question, "sql": one.query, "asked_at": "2026-11-01T10:00:00Z"},
                {"question": two.question},
            )
        )
        + "\n"
    )
    done = _cli(stack, "questions", "import", str(jsonl), "--db", one.db_id, "--by", "helpdesk")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported 2 of 2 questions (1 with SQL; 0 already in the log)" in done.stdout
    again = _cli(stack, "questions", "import", str(jsonl), "--db", one.db_id)
    assert "imported 0 of 2 questions" in again.stdout, again.stdout
    listed = _cli(stack, "questions", "list", "--db", one.db_id, "--labelled", "--limit", "500").stdout
    assert one.question[:30] in listed and two.question[:30] not in listed

    csv_file = tmp_path / "log.csv"
    database = catalogue.path(three.db_id)
    rows = [
        ("question", "query", "db_id"),
        (three.question, three.query, three.db_id),
        ("a hostile one", f"DROP TABLE {_a_table(database)}", three.db_id),
        ("no database here", "", "no_such_db"),
    ]
    with csv_file.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = _digest(database)
    refused = _cli(stack, "questions", "import", str(csv_file))
    assert refused.returncode == 2 and "log.csv:4: unknown database 'no_such_db'" in refused.stdout
    with csv_file.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows[:3])
    refused = _cli(stack, "questions", "import", str(csv_file))
    assert refused.returncode == 2 and "log.csv:3: the critic refused the SQL" in refused.stdout, (
        refused.stdout
    )
    assert "Traceback" not in refused.stderr and _digest(database) == before
    assert three.question[:30] not in _cli(stack, "questions", "list", "--limit", "500").stdout  # none of it


def test_a_registered_duckdb_source_is_asked_without_a_restart_and_answers_run_on_it(stack, tmp_path):
    import duckdb

    source = tmp_path / "warehouse.duckdb"
    connection = duckdb.connect(str(source))
    connection.execute("CREATE TABLE regions (id INTEGER PRIMARY KEY, name VARCHAR)")
    connection.execute("INSERT INTO regions VALUES (1, 'north'), (2, 'south')")
    connection.close()
    added = _cli(stack, "db", "add", "warehouse", f"duckdb:///{source}", "--snapshot-rows", "0")
    assert added.returncode == 0 and "2 of 2 rows copied" in added.stdout, added.stdout + added.stderr
    assert "warehouse" in _cli(stack, "db", "list").stdout

    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    count = controller_pb2.AskRequest(
        question="How many rows does the regions table have?", db_id="warehouse", on_source=True
    )
    answer = stub.Ask(count, timeout=120)  # the services see the new database without a restart
    assert answer.status == critic_pb2.EXECUTION_STATUS_OK and from_result_set(answer.result) == [(2,)]
    assert answer.source_sql == "SELECT COUNT(*) FROM regions" and not answer.source_differs
    assert from_result_set(answer.source_result) == [(2,)] and not answer.source_error

    connection = duckdb.connect(str(source))
    connection.execute("INSERT INTO regions VALUES (3, 'east')")
    connection.close()
    stale = stub.Ask(count, timeout=120)
    assert stale.source_differs and from_result_set(stale.source_result) == [(3,)]
    shown = _cli(
        stack, "ask", "How many rows does the regions table have?", "--db", "warehouse", "--on-source"
    )
    assert "the source's rows differ from the snapshot's" in shown.stdout, shown.stdout
    refreshed = _cli(stack, "db", "refresh", "--all")  # as the nightly CronJob does
    assert refreshed.returncode == 0 and "every source refreshed" in refreshed.stdout, refreshed.stdout
    assert not stub.Ask(count, timeout=120).source_differs  # the refreshed snapshot serves

    before = _digest(source)
    hostile = stub.Ask(
        controller_pb2.AskRequest(question="Please load an extension.", db_id="warehouse", on_source=True),
        timeout=120,
    )
    assert hostile.status == critic_pb2.EXECUTION_STATUS_DENIED
    assert "refused before it reached the source" in hostile.source_error and not hostile.source_sql
    assert _digest(source) == before
    with pytest.raises(grpc.RpcError) as info:  # a database that is no source
        stub.Ask(controller_pb2.AskRequest(question="How many?", db_id="library", on_source=True), timeout=60)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "db add" in info.value.details()

    # A round learns on the snapshot like on any database: self-instruct pairs written, judged, trained.
    spec = run_spec(stack.base, mode="self_instruct", db_ids=["warehouse"], rounds=1, samples_per_question=1)
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = stub.GetRun(controller_pb2.RunRef(run_id=run.run_id), timeout=10)
        if current.state in (controller_pb2.RUN_STATE_COMPLETED, controller_pb2.RUN_STATE_FAILED):
            break
        time.sleep(0.5)
    assert current.state == controller_pb2.RUN_STATE_COMPLETED
    (done,) = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert done.generated > 0 and done.kept > 0 and done.model_version  # trained on the snapshot's pairs
    kept = stub.ListCandidates(controller_pb2.ListCandidatesRequest(run_id=run.run_id, kept=True), timeout=10)
    assert {c.db_id for c in kept.candidates} == {"warehouse"}
    assert _cli(stack, "db", "remove", "warehouse").stdout.strip() == "removed warehouse"
