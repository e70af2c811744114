"""The flywheel through the real stack (generation's model server is the scripted TGI fake; the
trainer fine-tunes a real tiny model): a continuous run on the question log sleeps until people
have asked enough, then labels their questions, trains on them with a person's correction as a
labelled row, gates on the log's held-out questions too, rolls out, and the next ask is answered by
the new version; a forgotten question and a held-out one never train."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from offline.question_log import forget
from services.controller.question_log import held_out
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT as REPO
from shared.grpc_client import make_channel
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.pbconvert import enum_text
from shared.store import AskedQuestion, Candidate, Dataset, Event, ModelVersion, Store
from testbed.scripted_stack import SERVICES, make_stack
from testbed.tiny_models import make_tiny_model
from tests.support.run_specs import run_spec

DATABASES = ("library", "clinic")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("flywheel")
    stack = make_stack(root, make_tiny_model(root / "tiny"))
    stack.base = root / "tiny"
    for name in SERVICES:
        stack.start(name)
    yield stack
    stack.stop()


def _until(check, what: str, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise TimeoutError(what)


def _store_rows(stack, query) -> list:
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            return [tuple(r) for r in s.execute(query).all()]
    finally:
        store.close()


def test_a_continuous_run_on_the_question_log_waits_for_asks_then_learns_from_them(stack, tmp_path):
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    catalogue = Catalogue.load(stack.dataset)
    train = [e for e in catalogue.examples("train") if e.db_id in DATABASES]
    staying = [e for e in train if not held_out(e.db_id, e.question, 0.2)]
    away = next(e for e in train if held_out(e.db_id, e.question, 0.2))
    asked_examples = [*staying[:10], away]
    spec = run_spec(
        stack.base,
        mode="unlabelled",
        questions_from="log",
        continuous=True,
        min_new_questions=12,
        round_interval_seconds=3600,
        samples_per_question=2,
        questions_per_round=0,
    )
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)

    def current():
        return stub.GetRun(controller_pb2.RunRef(run_id=run.run_id), timeout=10)

    # An empty log: the run sleeps, saying on what; no round starts.
    waiting = _until(lambda: current().waiting_for and current(), "the run never said what it waits for", 60)
    assert enum_text(controller_pb2.RunState, waiting.state) == "running" and waiting.current_round == 0
    assert "0 of 12 new questions" in waiting.waiting_for
    assert not stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds

    answers = [
        stub.Ask(
            controller_pb2.AskRequest(question=e.question, db_id=e.db_id, asked_by="analyst"), timeout=120
        )
        for e in asked_examples
    ]
    assert all(a.answer_id for a in answers)
    # Ten new questions it may learn from (the held-out one never trains): still asleep, and it
    # looked again when they arrived.
    assert _until(lambda: "10 of 12" in current().waiting_for, "the run did not count the asks", 60)
    assert not stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds

    forgotten = staying[9]
    assert forget(stack.store_url, answers[9].answer_id) == 1
    corrected, held = staying[0], away
    # The held-out question's correction gates but never trains: it does not start a round; the
    # other does, at once.
    for example, answer in ((held, answers[10]), (corrected, answers[0])):
        stub.Feedback(
            controller_pb2.FeedbackRequest(
                answer_id=answer.answer_id,
                corrected_sql=f"SELECT * FROM ({example.query.strip().rstrip(';')})",
            ),
            timeout=60,
        )
    rounds = _until(
        lambda: [
            r
            for r in stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
            if r.outcome
        ],
        "round 1 never finished",
    )
    assert enum_text(controller_pb2.RoundOutcome, rounds[0].outcome) == "rolled_out", rounds[0]
    after = _until(lambda: current().waiting_for and current(), "the run did not wait again", 60)
    assert "0 of 12 new questions" in after.waiting_for and after.current_round == 1

    candidates = _store_rows(
        stack,
        select(Candidate.db_id, Candidate.question, Candidate.source, Candidate.gold_sql).where(
            Candidate.run_id == run.run_id
        ),
    )
    asked = {(db, q) for db, q, source, _ in candidates if source == "unlabelled"}
    assert asked == {(e.db_id, e.question) for e in staying[1:9]}  # not forgotten, held out or corrected
    labelled = {(db, q, gold) for db, q, source, gold in candidates if source == "labelled"}
    assert {(db, q) for db, q, _ in labelled} == {(corrected.db_id, corrected.question)}
    assert all(gold.startswith("SELECT * FROM (") for _, _, gold in labelled)

    (dataset,) = _store_rows(stack, select(Dataset.path).where(Dataset.run_id == run.run_id))
    trained = Path(dataset[0]).read_text()
    for never in (forgotten, held):
        assert json.dumps(never.question)[1:-1] not in trained
    assert json.dumps(corrected.question)[1:-1] in trained

    (gate,) = _store_rows(
        stack,
        select(Event.figures).where(Event.run_id == run.run_id, Event.kind == "gate").order_by(Event.id),
    )
    assert gate[0]["log_questions"] == 1  # the held-out question with a person's SQL is the gate's too

    again = stub.Ask(
        controller_pb2.AskRequest(question=forgotten.question, db_id=forgotten.db_id), timeout=120
    )
    assert again.version == rounds[0].model_version  # the next ask: the new version answers it
    stub.Feedback(controller_pb2.FeedbackRequest(answer_id=again.answer_id, verdict=1), timeout=60)

    # What it shows: per version, its asks and their feedback, and EX on the held-out log questions.
    versions = {
        m.version: m.asked for m in stub.ListModels(controller_pb2.ListModelsRequest(), timeout=10).models
    }
    new = versions[rounds[0].model_version]
    assert (new.answered, new.marked_right, new.marked_wrong, new.executable) == (1, 1, 0, 1.0)
    assert new.log_questions == 1 and new.log_execution == 1.0
    assert answers[1].version not in versions  # the model generation started with: not a store version
    shown = subprocess.run(
        [sys.executable, "-m", "cli.main", "models"],
        env={**stack.env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert "answered 1 asks, 100% ran" in shown.stdout and "marked 1 right / 0 wrong" in shown.stdout, (
        shown.stdout
    )
    from cli.report import build_report

    report = build_report(stub, run.run_id, tmp_path / "report").read_text()
    assert "## The question log" in report and (tmp_path / "report" / "question_log.png").stat().st_size > 0
    stub.StopRun(controller_pb2.RunRef(run_id=run.run_id), timeout=30)
    assert enum_text(controller_pb2.RunState, current().state) == "stopped"


def test_kill_9_of_the_controller_mid_round_while_asks_arrive_loses_and_doubles_nothing(stack, tmp_path):
    """The controller dies (SIGKILL at two points of the round) while a client keeps asking, retrying
    with the same request id when the controller is down: every ask is in the log once, the round
    resumes and trains once."""
    catalogue = Catalogue.load(stack.dataset)
    databases = ("airline", "school")  # not the other test's: these questions are new to the log
    questions = [e for e in catalogue.examples("train") if e.db_id in databases][:10]
    base = shutil.copytree(stack.base, tmp_path / "tiny")  # a lineage of its own
    crash_env = {
        "SQLDISTILL_CRASH_AT": "JUDGE:mid,TRAIN:submitted",
        "SQLDISTILL_CRASH_DIR": str(tmp_path / "crashes"),
    }
    stack.kill("controller")
    control = stack.start("controller", crash_env)
    stub = controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))
    spec = run_spec(
        base,
        db_ids=list(databases),
        mode="unlabelled",
        questions_from="log",
        continuous=True,
        min_new_questions=4,
        samples_per_question=2,
        questions_per_round=0,
    )
    run_id = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30).run_id
    answered: dict[str, str] = {}

    def ask_all() -> None:  # a client that retries a lost reply with the same request id
        for index, e in enumerate(questions):
            request = controller_pb2.AskRequest(question=e.question, db_id=e.db_id, request_id=f"q{index}")
            while True:
                try:
                    answered[request.request_id] = stub.Ask(request, timeout=60).answer_id
                    break
                except grpc.RpcError as exc:
                    assert exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), exc
                    time.sleep(0.2)
            time.sleep(0.1)

    client = threading.Thread(target=ask_all)
    client.start()
    restarts, done = 0, []
    deadline = time.monotonic() + 600
    while not done and time.monotonic() < deadline:
        if control.process.poll() is not None:  # killed itself with SIGKILL at a crash point
            assert control.process.returncode == -9
            restarts += 1
            control = stack.start("controller", crash_env, wait=False)
            continue
        try:
            done = [
                r
                for r in stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
                if r.outcome
            ]
        except grpc.RpcError:
            pass  # restarting
        time.sleep(0.3)
    client.join(timeout=300)
    assert done and not client.is_alive()
    assert sorted(p.name for p in (tmp_path / "crashes").iterdir()) == ["JUDGE:mid", "TRAIN:submitted"]
    assert restarts == 2
    assert answered == {f"q{i}": f"q{i}" for i in range(len(questions))}
    logged = _store_rows(
        stack,
        select(AskedQuestion.id, func.count())
        .where(AskedQuestion.db_id.in_(databases))
        .group_by(AskedQuestion.id),
    )
    assert sorted(logged) == sorted((f"q{i}", 1) for i in range(len(questions)))  # each once
    assert (
        len(_store_rows(stack, select(Dataset.hash).where(Dataset.run_id == run_id, Dataset.round == 1))) == 1
    )
    assert len(_store_rows(stack, select(ModelVersion.version).where(ModelVersion.run_id == run_id))) == 1
    submitted = _store_rows(
        stack,
        select(Event.message).where(Event.run_id == run_id, Event.round == 1, Event.kind == "job_submitted"),
    )
    assert len(set(submitted)) == 1  # resumed after TRAIN:submitted, it watched the same job
    keys = _store_rows(
        stack, select(Candidate.key, func.count()).where(Candidate.run_id == run_id).group_by(Candidate.key)
    )
    assert keys and all(n == 1 for _, n in keys)  # no candidate written twice
    stub.StopRun(controller_pb2.RunRef(run_id=run_id), timeout=30)
