"""The controller with all four services real on loopback (generation's model server is the
recorded-protocol TGI fake, scripted per model version; the trainer fine-tunes a real tiny model):
complete runs, kill -9 at many points, service restarts, rollout failure, rollback, the CLI. One
module, past 300 lines, because its tests share the tiny base model and the scripted stack's setup.

Tests whose assertions are about their own run share one stack (shared_stack), each on its own copy
of the base model (own_base): its own lineage, so its own serving version and one-run-at-a-time
slot. Tests that kill or restart services, start them with other settings, or look at what the
whole store or the list of runs holds start their own (stack, make_stack)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter

import grpc
import pytest
from sqlalchemy import func, select

from shared import defaults
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT as REPO
from shared.grpc_client import make_channel
from shared.limits import MAX_SAMPLES, MAX_VOTING_SAMPLES, TRAIN_BOUNDS
from shared.pb import common_pb2, controller_pb2, controller_pb2_grpc, generation_pb2, generation_pb2_grpc
from shared.pbconvert import enum_text
from shared.store import Candidate, Dataset, Evaluation, Event, ModelVersion, Round, Run, Store, Verdict
from testbed.processes import stop_service
from testbed.scripted_stack import SERVICES, make_stack
from testbed.tiny_models import make_tiny_model
from tests.support.postgres import new_postgres_database
from tests.support.run_specs import run_spec


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("base") / "tiny")


@pytest.fixture
def stack(tmp_path, tiny_base):
    stack = make_stack(tmp_path, tiny_base)
    for name in SERVICES:
        stack.start(name)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory, tiny_base):
    """One stack for the module's tests that each look only at their own run (see own_base)."""
    stack = make_stack(tmp_path_factory.mktemp("shared"), tiny_base)
    try:
        for name in SERVICES:
            stack.start(name)
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def own_base(tmp_path, tiny_base):
    """The tiny base model at this test's own path: a lineage of its own on the shared stack (its own
    base version, serving version and run slot), trained from the same weights."""
    return shutil.copytree(tiny_base, tmp_path / "tiny")


def state(run) -> str:
    return enum_text(controller_pb2.RunState, run.state)


def outcome(rnd) -> str:
    return enum_text(controller_pb2.RoundOutcome, rnd.outcome)


def status(version) -> str:
    return enum_text(controller_pb2.VersionStatus, version.status)


def controller(stack):
    return controller_pb2_grpc.ControllerServiceStub(make_channel(stack.target("controller")))


def wait_for(stub, run_id: str, timeout: float = 600) -> controller_pb2.Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = stub.GetRun(controller_pb2.RunRef(run_id=run_id), timeout=10)
        if state(run) in ("completed", "failed", "stopped"):
            return run
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} still {state(run)}")


def summary(stack) -> dict:
    """What a finished run left in the store, in comparable form."""
    store = Store.open(stack.store_url)
    with store.session() as s:
        out = {
            "candidates": {
                r: n for r, n in s.execute(select(Candidate.round, func.count()).group_by(Candidate.round))
            },
            "verdicts": s.scalar(select(func.count()).select_from(Verdict)),
            "kept": s.scalar(select(func.count()).select_from(Verdict).where(Verdict.kept.is_(True))),
            "rounds": [
                (r.number, r.step, r.outcome, r.dataset_hash)
                for r in s.scalars(select(Round).order_by(Round.number))
            ],
            "datasets": sorted((d.hash, d.size) for d in s.scalars(select(Dataset))),
            "versions": sorted(
                (v.version.split("-", 1)[-1] if v.run_id else "base", v.status)
                for v in s.scalars(select(ModelVersion))
            ),
            "task_markers": s.scalar(
                select(func.count()).select_from(Event).where(Event.kind == "task_done")
            ),
        }
    store.close()
    return out


def test_two_rounds_complete_with_a_consistent_store(stack, tiny_base):
    stub = controller(stack)
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=run_spec(tiny_base)), timeout=30)
    with pytest.raises(grpc.RpcError) as info:  # one run at a time per model lineage
        stub.StartRun(controller_pb2.StartRunRequest(spec=run_spec(tiny_base)), timeout=30)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    events = [e for e in stub.WatchRun(controller_pb2.RunRef(run_id=run.run_id), timeout=600)]
    final = stub.GetRun(controller_pb2.RunRef(run_id=run.run_id), timeout=10)
    assert state(final) == "completed", [e.message for e in events if e.kind in ("step_failed", "run_failed")]
    kinds = [e.kind for e in events]
    assert (
        kinds[0] == "run_started" and kinds[-1] == "run_completed" and "gate" in kinds and "rollout" in kinds
    )

    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert [(r.number, enum_text(controller_pb2.Step, r.step, upper=True), outcome(r)) for r in rounds] == [
        (1, "DONE", "rolled_out"),
        (2, "DONE", "rejected"),
    ]
    assert rounds[0].accuracy.execution > 0.3 and rounds[0].serving_accuracy.execution == 0.0
    assert rounds[0].generated > 0 and 0 < rounds[0].kept <= rounds[0].generated

    models = {m.version: m for m in stub.ListModels(controller_pb2.ListModelsRequest(), timeout=10).models}
    r1, r2 = f"{run.run_id[:8]}-r1", f"{run.run_id[:8]}-r2"
    assert status(models[r1]) == "serving" and status(models[r2]) == "rejected" and models[r2].parent == r1
    base = next(v for v, m in models.items() if v.startswith("base-"))
    assert status(models[base]) == "retired"
    generation = generation_pb2_grpc.GenerationServiceStub(make_channel(stack.target("generation")))
    assert (
        generation.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == r1
    )  # REJECT restored it

    facts = summary(stack)
    assert facts["verdicts"] == sum(facts["candidates"].values())  # every candidate judged exactly once
    assert all(r[3] for r in facts["rounds"])  # both rounds froze a dataset
    store = Store.open(stack.store_url)
    with store.session() as s:
        assert s.get(Run, run.run_id).serving_version == r1
        for rnd in s.scalars(select(Round)):
            assert rnd.figures["generated"] == facts["candidates"][rnd.number]
        # How every SQL was written: the run's constrain, as generation applied it.
        assert set(s.scalars(select(Candidate.constrain))) == {"off"}
        assert set(s.scalars(select(Evaluation.constrain))) == {"off"}

    # The CLI, as a user runs it: a gRPC client of the controller.
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env={**stack.env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )

    shown = cli("rounds", run.run_id)
    assert shown.returncode == 0 and "rolled_out" in shown.stdout and "rejected" in shown.stdout
    tree = cli("models")
    assert tree.returncode == 0 and r1 in tree.stdout and "serving" in tree.stdout
    report = cli("report", run.run_id, "--out", str(stack.home.parent / "report"))
    assert report.returncode == 0, report.stderr
    text = (stack.home.parent / "report" / "report.md").read_text()
    assert (
        "| 1 | DONE | rolled_out |" in text
        and "Rejected pairs" in text
        and (stack.home.parent / "report" / "accuracy.png").stat().st_size > 10_000
    )
    kept_section = text.split("## Kept pairs")[1].split("## Rejected pairs")[0]
    assert "| 1 | labelled |" in kept_section  # the scripted model answers train questions right
    assert "| 1 | self_instruct |" in text  # a mode-both round shows its self-instruct pairs too
    assert cli("pause", "no-such-run").returncode == 1
    listed = cli("runs")
    assert listed.returncode == 0 and run.run_id in listed.stdout

    # The controller down: the read commands answer the same from the store, the others say how to start it.
    stop_service(stack.services.pop("controller"))
    offline = {args: cli(*args) for args in (("runs",), ("rounds", run.run_id), ("models",))}
    for result in offline.values():
        assert result.returncode == 0 and "reading the store" in result.stderr, result.stdout + result.stderr
    assert offline[("runs",)].stdout == listed.stdout and offline[("models",)].stdout == tree.stdout
    assert offline[("rounds", run.run_id)].stdout == shown.stdout
    again = cli("report", run.run_id, "--out", str(stack.home.parent / "report-offline"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (stack.home.parent / "report-offline" / "report.md").read_text() == text
    missing = cli("rounds", "no-such-run")
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stdout and "Traceback" not in missing.stderr
    paused = cli("pause", run.run_id)
    assert (
        paused.returncode == 1
        and stack.target("controller") in paused.stdout
        and "sqldistill up" in paused.stdout
    )
    assert "Traceback" not in paused.stdout + paused.stderr
    stack.start("controller")

    rolled_back = stub.RollBack(controller_pb2.RollBackRequest(version=base), timeout=30)
    assert status(rolled_back) == "serving"
    assert generation.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == base
    with pytest.raises(grpc.RpcError) as info:
        stub.RollBack(controller_pb2.RollBackRequest(version="no-such-version"), timeout=30)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_bad_run_specs_are_rejected(shared_stack, own_base):
    """Over gRPC: a spec refused by the message's conversion or by the validation is INVALID_ARGUMENT
    with what to fix (every refusal: tests/unit/test_run_validation.py); an unknown run NOT_FOUND."""
    stub = controller(shared_stack)
    cases = [
        (run_spec(own_base, mode=99), "mode must be"),  # an enum value the controller does not know
        (run_spec(own_base, db_ids=["film"]), "overlap the held-out"),
        # What a service would refuse rounds later is refused here, with that service's bound.
        (run_spec(own_base, samples_per_question=MAX_SAMPLES + 1), "generation service's limit"),
        (run_spec(own_base, train_epochs=TRAIN_BOUNDS["epochs"][1] + 1), "trainer's limit"),
    ]
    for spec, message in cases:
        with pytest.raises(grpc.RpcError) as info:
            stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        stub.GetRun(controller_pb2.RunRef(run_id="missing"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


KILL_POINTS = [
    "GENERATE:mid",
    "GENERATE:end",
    "JUDGE:start",
    "JUDGE:mid",
    "TRAIN:submitted",
    "TRAIN:end",
    "EVALUATE:mid",
    "EVALUATE:end",
    "ROLLOUT:start",
    "REJECT:start",
]


# Every kill point fires in each case: the SQLite store is crashed in the question-only case, the
# labelled + self-instruct mode on PostgreSQL. A third case (SQLite with both modes) was dropped to
# keep the suite under 15 minutes: its store and its mode each crash in one of these.
@pytest.mark.parametrize("backend,mode", [("postgresql", "both"), ("sqlite", "unlabelled")])
def test_kill_minus_9_at_many_points_then_resume_gives_the_same_result(
    tmp_path, tiny_base, backend, mode, request
):
    """Two rounds, every service real, the store on SQLite and then on a real PostgreSQL; and the
    question-only mode."""

    def url() -> str:
        return new_postgres_database(request.getfixturevalue("postgres")) if backend == "postgresql" else ""

    clean = make_stack(tmp_path / "clean", tiny_base, url())
    crashy = make_stack(tmp_path / "crashy", tiny_base, url())
    try:
        # The clean run goes on beside the crashing one (its own stack, home and store): the two
        # stacks share nothing, and the crashing one spends much of its time restarting.
        for name in SERVICES:
            clean.start(name)
        clean_stub = controller(clean)
        spec = run_spec(tiny_base, mode=mode, **({"samples_per_question": 3} if mode == "unlabelled" else {}))
        clean_run = clean_stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)

        for name in SERVICES[:3]:
            crashy.start(name)
        crash_env = {
            "SQLDISTILL_CRASH_AT": ",".join(KILL_POINTS),
            "SQLDISTILL_CRASH_DIR": str(tmp_path / "crashes"),
        }
        control = crashy.start("controller", crash_env)
        stub = controller(crashy)
        run_id = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30).run_id
        restarts = 0
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if control.process.poll() is not None:  # killed itself with SIGKILL at a crash point
                assert control.process.returncode == -9
                restarts += 1
                # Wherever it died (mid-EVALUATE included), what serves is what the store says serves.
                assert serving_slot(crashy) == store_serving(crashy, run_id)
                control = crashy.start(
                    "controller", crash_env, wait=False
                )  # it may die again before it is healthy
                stub = controller(crashy)
                continue
            try:
                run_state = state(stub.GetRun(controller_pb2.RunRef(run_id=run_id), timeout=10))
            except grpc.RpcError:
                time.sleep(0.3)  # restarting
                continue
            if run_state in ("completed", "failed"):
                break
            time.sleep(0.3)
        assert run_state == "completed"
        fired = sorted(p.name for p in (tmp_path / "crashes").iterdir())
        assert fired == sorted(KILL_POINTS) and restarts == len(fired)
        assert state(wait_for(clean_stub, clean_run.run_id)) == "completed"
        expected = summary(clean)
        got = summary(crashy)
        assert got == expected  # nothing lost, nothing doubled: same candidates, verdicts, datasets, versions
    finally:
        clean.stop()
        crashy.stop()


def kept_set(stack) -> tuple[list[tuple], list[tuple]]:
    """What the critic kept (database, question, SQL, agreement) and the frozen training sets."""
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            kept = s.execute(
                select(
                    Candidate.db_id,
                    Candidate.question,
                    Candidate.sql,
                    Candidate.gold_sql,
                    Verdict.consistency,
                )
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(Verdict.kept.is_(True))
                .order_by(Candidate.db_id, Candidate.question, Candidate.sql)
            ).all()
            datasets = [(d.round, d.hash, d.size) for d in s.scalars(select(Dataset).order_by(Dataset.round))]
        return [tuple(r) for r in kept], datasets
    finally:
        store.close()


def test_unlabelled_runs_never_use_the_gold_sql_of_their_questions(tmp_path, tiny_base):
    """The same question-only run twice: on the bundled train split, and on a copy whose every gold
    query is garbage. What is kept and the frozen training sets must be byte-identical."""
    stacks = {name: make_stack(tmp_path / name, tiny_base) for name in ("gold", "garbage")}
    # The fake model answers from the real gold (read when its stack was made); only what the
    # services read - the dataset's train split - is spoiled.
    train = stacks["garbage"].dataset / "train.json"
    items = json.loads(train.read_text())
    for i, item in enumerate(items):
        item["query"] = f"SELECT 'garbage {i}' FROM no_such_table"
    train.write_text(json.dumps(items))
    results = {}
    try:
        for name, stack in stacks.items():
            for service in SERVICES:
                stack.start(service)
            stub = controller(stack)
            spec = run_spec(
                tiny_base, mode="unlabelled", rounds=1, samples_per_question=3, questions_per_round=8
            )
            run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
            assert state(wait_for(stub, run.run_id)) == "completed"
            results[name] = kept_set(stack)
            stack.stop()
    finally:
        for stack in stacks.values():
            stack.stop()
    kept, datasets = results["gold"]
    assert kept and datasets and all(gold is None for _, _, _, gold, _ in kept)
    assert all(agreement > 0.5 for *_, agreement in kept)  # kept by a majority, recorded as its confidence
    assert results["garbage"] == results["gold"]


def test_a_run_at_each_sample_limit_generates_judges_and_evaluates(shared_stack, own_base):
    """What StartRun accepts, the services do: a run at the edge of every sample limit (a question's
    samples, a pair's re-answers, the gate's voting samples) gets through GENERATE and EVALUATE."""
    stub = controller(shared_stack)
    spec = run_spec(
        own_base,
        mode="both",
        rounds=1,
        db_ids=["library"],
        candidates_per_db=1,
        questions_per_round=1,
        samples_per_question=MAX_SAMPLES,
        consistency_samples=MAX_SAMPLES,
        eval_samples=MAX_VOTING_SAMPLES,
        eval_limit=2,
    )
    earlier = len(shared_stack.fake.requests)  # what the model server was asked before this run
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    finished = wait_for(stub, run.run_id)
    assert state(finished) == "completed", finished
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert rounds[0].comparison.questions == 2  # the gate answered both questions, voting 64 samples
    # One model-server request per sample: the question's 256, and 64 per gate question and version.
    assert len(shared_stack.fake.requests) - earlier >= MAX_SAMPLES + 2 * 2 * MAX_VOTING_SAMPLES


@pytest.mark.parametrize("reviewer", ["writer", "base"])
def test_unlabelled_questions_without_a_label_come_back_in_the_next_round(shared_stack, own_base, reviewer):
    """Round 1 asks every train question of the run's databases, 3 samples each. The scripted hot
    sampler strays on clinic's questions two times in three, so the vote labels them wrong, 2 to 1;
    the writer's review (through TGI's input log-probabilities) finds the outvoted gold SQL explains
    them better and withholds those labels. So round 2 asks again exactly what round 1 did not label.
    Round 2's writer is round 1's adapter; its labels are reviewed by that adapter (label_reviewer
    writer) or by the base, with no adapter (base)."""
    stub = controller(shared_stack)
    spec = run_spec(
        own_base,
        mode="unlabelled",
        rounds=2,
        samples_per_question=3,
        sampling=common_pb2.SamplingParams(temperature=1.0),
        questions_per_round=0,
        label_review=True,
        label_reviewer=reviewer,
    )
    before = len(shared_stack.fake.requests)
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    assert state(wait_for(stub, run.run_id)) == "completed"
    store = Store.open(shared_stack.store_url)
    try:
        with store.session() as s:
            skipped = s.scalars(
                select(Event.round).where(
                    Event.run_id == run.run_id,
                    Event.kind == "skipped",
                    Event.message.contains("label_review"),
                )
            ).all()
            rows = s.execute(
                select(Candidate.round, Candidate.db_id, Candidate.question, Verdict.kept, Verdict.reasons)
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(Candidate.run_id == run.run_id)
            ).all()
            figures = {
                r.number: r.figures for r in s.scalars(select(Round).where(Round.run_id == run.run_id))
            }
    finally:
        store.close()
    assert skipped == []  # TGI gives scores: the review ran
    labelled_1 = {(db, q) for r, db, q, kept, _ in rows if r == 1 and kept}
    asked_1 = {(db, q) for r, db, q, *_ in rows if r == 1}
    asked_2 = {(db, q) for r, db, q, *_ in rows if r == 2}
    withheld_1 = {
        (db, q) for r, db, q, _, reasons in rows if r == 1 and any(x.startswith("review:") for x in reasons)
    }
    train = {
        (e.db_id, e.question)
        for e in Catalogue.load(shared_stack.dataset).examples("train")
        if e.db_id in ("library", "clinic")
    }
    clinic = {(db, q) for db, q in train if db == "clinic"}
    assert asked_1 == train  # round 1 asks every question of the run's databases
    assert labelled_1 == train - clinic and withheld_1 == clinic  # the review withheld clinic's labels
    assert asked_2 == asked_1 - labelled_1  # round 2 asks again only what round 1 could not label
    assert (figures[1]["questions"], figures[1]["labelled_questions"]) == (len(asked_1), len(labelled_1))
    assert figures[1]["reviewed"] == figures[1]["review_withheld"] == len(clinic)
    assert figures[2]["review_withheld"] == len(clinic)  # the same stray, the same review
    asked = shared_stack.fake.requests[before:]
    sampled = [r for r in asked if (r.get("parameters") or {}).get("do_sample")]
    reviews = [r for r in asked if (r.get("parameters") or {}).get("decoder_input_details")]
    adapter = {(r.get("parameters") or {}).get("adapter_id") for r in sampled} - {None}
    assert len(adapter) == 1  # round 2's samples come from round 1's adapter
    reviewed_by = [(r.get("parameters") or {}).get("adapter_id") for r in reviews]
    assert None in reviewed_by  # round 1: the base wrote and reviewed
    assert (adapter <= set(reviewed_by)) == (reviewer == "writer")
    assert (figures[1]["label_base_reviewer"], figures[2]["label_base_reviewer"]) == (0, reviewer == "base")


def test_a_runs_samples_are_spread_over_its_example_sets(shared_stack, own_base):
    """example_sets 2: round 1's writer (the base, asked with one example) samples each question over
    two prompts that differ in their example alone, two samples each."""
    stub = controller(shared_stack)
    before = len(shared_stack.fake.requests)
    spec = run_spec(
        own_base, mode="labelled", rounds=1, samples_per_question=4, example_sets=2, questions_per_round=3
    )
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    assert state(wait_for(stub, run.run_id)) == "completed"
    asked = shared_stack.fake.requests[before:]
    sampled: dict[str, list[str]] = {}
    for r in asked:
        if (r.get("parameters") or {}).get("do_sample") and "-- Failed SQL:" not in r["inputs"]:
            question = r["inputs"].rsplit("-- Question:", 1)[-1]
            sampled.setdefault(question, []).append(r["inputs"])
    assert len(sampled) == 3  # questions_per_round
    for prompts in sampled.values():
        counts = sorted(Counter(prompts).values())
        assert counts == [2, 2]  # two prompts, two samples each
        first, second = sorted(set(prompts))
        tail = first[first.rindex("-- Database:") :]
        assert second.endswith(tail) and first != second  # the example differs, nothing else
    spec_back = stub.GetRun(controller_pb2.RunRef(run_id=run.run_id), timeout=10).spec
    assert spec_back.example_sets == 2


def judged(stack, run_id: str, *columns) -> list:
    """The run's judged candidates: the given Candidate / Verdict columns of each."""
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            return s.execute(
                select(*columns)
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(Candidate.run_id == run_id)
            ).all()
    finally:
        store.close()


def serving_slot(stack) -> str:
    """The version the generation service itself serves (not what the store believes)."""
    generation = generation_pb2_grpc.GenerationServiceStub(make_channel(stack.target("generation")))
    return generation.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version


def store_serving(stack, run_id: str) -> str:
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            return s.get(Run, run_id).serving_version
    finally:
        store.close()


def run_with_fault(stack, tiny_base, fault: str) -> tuple[controller_pb2_grpc.ControllerServiceStub, str]:
    """The stack's services up, its controller failing at `fault` (SQLDISTILL_FAIL_AT), and a
    one-round labelled run started on it."""
    for name in SERVICES[:3]:
        stack.start(name)
    stack.start("controller", {"SQLDISTILL_FAIL_AT": fault})
    stub = controller(stack)
    spec = run_spec(tiny_base, rounds=1, mode="labelled")
    return stub, stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30).run_id


def test_evaluation_that_fails_three_times_leaves_the_serving_version_serving(tmp_path, tiny_base):
    stack = make_stack(tmp_path, tiny_base)
    try:
        stub, run_id = run_with_fault(stack, tiny_base, "EVALUATE:mid")
        assert state(wait_for(stub, run_id)) == "failed"
        store = Store.open(stack.store_url)
        with store.session() as s:
            failures = s.scalars(
                select(Event.message).where(Event.run_id == run_id, Event.kind == "step_failed")
            ).all()
            candidate = s.scalar(select(Round.model_version).where(Round.run_id == run_id))
        store.close()
        assert len(failures) == 3 and all("EVALUATE:mid" in m for m in failures)
        assert candidate and serving_slot(stack) == store_serving(stack, run_id) != candidate

        with pytest.raises(grpc.RpcError) as info:  # never evaluated: not served unless forced
            stub.RollBack(controller_pb2.RollBackRequest(version=candidate), timeout=30)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "never evaluated" in info.value.details() and serving_slot(stack) != candidate
        forced = stub.RollBack(
            controller_pb2.RollBackRequest(version=candidate, force=True, requested_by="alice@laptop"),
            timeout=60,
        )
        assert status(forced) == "serving" and serving_slot(stack) == candidate
        store = Store.open(stack.store_url)
        with store.session() as s:
            message = s.scalar(select(Event.message).where(Event.kind == "rollback"))
        store.close()
        assert "forced by alice@laptop" in message

        # Resumed with the fault gone, the round's candidate already serves: it is not gated against
        # itself (a tie would have rejected the version that serves).
        stack.kill("controller")
        stack.start("controller")
        stub = controller(stack)
        stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)
        assert state(wait_for(stub, run_id)) == "completed"
        (rnd,) = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
        assert (
            outcome(rnd) == "rolled_out" and serving_slot(stack) == store_serving(stack, run_id) == candidate
        )
        models = {
            m.version: status(m)
            for m in stub.ListModels(controller_pb2.ListModelsRequest(), timeout=10).models
        }
        assert models[candidate] == "serving"
    finally:
        stack.stop()


def test_a_failed_run_resumes_with_its_step_given_its_attempts_again(tmp_path, tiny_base):
    """A run failed by a step that fails three times is resumed: while the fault stays, the step
    fails three times more (not once: the attempts count from the resume); with the controller
    restarted without it, the resumed run completes its round."""
    stack = make_stack(tmp_path, tiny_base)
    try:
        stub, run_id = run_with_fault(stack, tiny_base, "EVALUATE:mid")

        def failures() -> int:
            return len(event_messages(stack, run_id, "step_failed"))

        assert state(wait_for(stub, run_id)) == "failed" and failures() == 3
        resumed = stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)
        assert state(resumed) == "running"
        assert state(wait_for(stub, run_id)) == "failed" and failures() == 6
        stack.kill("controller")
        stack.start("controller")
        stub = controller(stack)
        assert (
            state(stub.GetRun(controller_pb2.RunRef(run_id=run_id), timeout=10)) == "failed"
        )  # not picked up
        stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)
        assert state(wait_for(stub, run_id)) == "completed" and failures() == 6
        rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
        assert [r.step for r in rounds] == [controller_pb2.STEP_DONE]
    finally:
        stack.stop()


def test_a_run_failed_at_rollout_is_gated_again_when_resumed(tmp_path, tiny_base):
    """ROLLOUT fails three times: the run fails past its gate. Resumed (the fault gone), the round
    goes back to EVALUATE - what serves may have changed while it lay failed - and its decision is
    made again before the candidate is put into service."""
    stack = make_stack(tmp_path, tiny_base)
    try:
        stub, run_id = run_with_fault(stack, tiny_base, "ROLLOUT:start")
        assert state(wait_for(stub, run_id)) == "failed"
        assert len(event_messages(stack, run_id, "gate")) == 1
        stack.kill("controller")
        stack.start("controller")
        stub = controller(stack)
        stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)
        assert state(wait_for(stub, run_id)) == "completed"
        assert len(event_messages(stack, run_id, "gate")) == 2  # gated again
        (rnd,) = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
        assert outcome(rnd) == "rolled_out" and serving_slot(stack) == rnd.model_version
    finally:
        stack.stop()


def event_messages(stack, run_id: str, kind: str) -> list[str]:
    """The messages of the run's events of one kind."""
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            return list(s.scalars(select(Event.message).where(Event.run_id == run_id, Event.kind == kind)))
    finally:
        store.close()


def test_critic_and_generation_restarts_mid_round_are_retried(stack, tiny_base):
    stub = controller(stack)
    run_id = stub.StartRun(
        controller_pb2.StartRunRequest(spec=run_spec(tiny_base, rounds=1)), timeout=30
    ).run_id
    time.sleep(1.0)
    stack.kill("critic")
    stack.kill("generation")
    time.sleep(3.0)  # both down for a while: calls fail with UNAVAILABLE and are retried
    stack.start("generation")
    stack.start("critic")
    run = wait_for(stub, run_id)
    assert state(run) == "completed"
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
    assert rounds[0].step == controller_pb2.STEP_DONE and outcome(rounds[0]) == "rolled_out"


def test_a_pause_while_a_service_is_down_is_a_pause_not_a_failure(stack, tiny_base):
    stub = controller(stack)
    stack.kill("generation")
    run_id = stub.StartRun(
        controller_pb2.StartRunRequest(spec=run_spec(tiny_base, rounds=1)), timeout=30
    ).run_id
    time.sleep(2.0)  # GENERATE's calls fail with UNAVAILABLE and are retried
    assert state(stub.PauseRun(controller_pb2.RunRef(run_id=run_id), timeout=10)) == "paused"
    time.sleep(8.0)  # past the retry's back-off: the pause cuts the retries short
    assert state(stub.GetRun(controller_pb2.RunRef(run_id=run_id), timeout=10)) == "paused"
    store = Store.open(stack.store_url)
    with store.session() as s:
        failed = s.scalars(
            select(Event.message).where(Event.run_id == run_id, Event.kind.in_(("step_failed", "run_failed")))
        ).all()
    store.close()
    assert failed == []  # a call cut short by the pause is not the step failing
    stack.start("generation")
    assert state(stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)) == "running"
    assert state(wait_for(stub, run_id)) == "completed"


def test_pause_resume_and_stop(stack, tiny_base):
    stub = controller(stack)
    run_id = stub.StartRun(
        controller_pb2.StartRunRequest(spec=run_spec(tiny_base, continuous=True)), timeout=30
    ).run_id
    assert state(stub.PauseRun(controller_pb2.RunRef(run_id=run_id), timeout=10)) == "paused"
    with pytest.raises(grpc.RpcError) as info:
        stub.PauseRun(controller_pb2.RunRef(run_id=run_id), timeout=10)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert state(stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id), timeout=10)) == "running"
    deadline = time.monotonic() + 300
    while (
        stub.GetRun(controller_pb2.RunRef(run_id=run_id), timeout=10).current_round < 2
        and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert state(stub.StopRun(controller_pb2.RunRef(run_id=run_id), timeout=10)) == "stopped"
    time.sleep(1.0)  # the round thread notices the stop wherever it was (EVALUATE included)
    assert serving_slot(stack) == store_serving(stack, run_id)
    assert [r.run_id for r in stub.ListRuns(controller_pb2.ListRunsRequest(), timeout=10).runs] == [run_id]


def test_a_completed_run_given_more_rounds_goes_on_from_where_it_ended(shared_stack, own_base):
    stub = controller(shared_stack)
    run_id = stub.StartRun(
        controller_pb2.StartRunRequest(spec=run_spec(own_base, rounds=1, mode="labelled")), timeout=30
    ).run_id
    assert state(wait_for(stub, run_id)) == "completed"
    before = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
    for bad, code in ((-1, grpc.StatusCode.INVALID_ARGUMENT), (0, grpc.StatusCode.FAILED_PRECONDITION)):
        with pytest.raises(grpc.RpcError) as info:  # a negative count; a plain resume of a completed run
            stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id, more_rounds=bad), timeout=10)
        assert info.value.code() == code, info.value.details()
    extended = stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id, more_rounds=1), timeout=10)
    assert state(extended) == "running" and extended.spec.rounds == 2
    assert state(wait_for(stub, run_id)) == "completed"
    after = stub.ListRounds(controller_pb2.RunRef(run_id=run_id), timeout=10).rounds
    assert [r.number for r in after] == [1, 2] and all(r.step == controller_pb2.STEP_DONE for r in after)
    assert after[0] == before[0]  # round 1 stands as it was; round 2 is new
    store = Store.open(shared_stack.store_url)
    try:
        with store.session() as s:
            kinds = s.scalars(select(Event.kind).where(Event.run_id == run_id, Event.round.is_(None))).all()
            trained = s.scalar(
                select(func.count()).select_from(ModelVersion).where(ModelVersion.run_id == run_id)
            )
    finally:
        store.close()
    assert kinds.count("run_completed") == 2 and "run_extended" in kinds
    assert trained == 2
    stopped = stub.StartRun(
        controller_pb2.StartRunRequest(spec=run_spec(own_base, rounds=1, mode="labelled", name="x")),
        timeout=30,
    ).run_id
    with pytest.raises(grpc.RpcError) as info:  # one active run per lineage: the finished one waits
        stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id, more_rounds=1), timeout=10)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and stopped in info.value.details()
    stub.StopRun(controller_pb2.RunRef(run_id=stopped), timeout=10)
    with pytest.raises(grpc.RpcError) as info:  # stopping is final
        stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=stopped, more_rounds=1), timeout=10)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _rows(path: str) -> set[tuple[str, str, str]]:
    import json

    with open(path) as handle:
        return {(r["db_id"], r["question"], r["sql"]) for r in map(json.loads, handle)}


def _shots(prompt: str) -> int:
    return prompt.count("-- Database:") - 1  # every block but the target's is a few-shot example


def last_gate_event(stack, run_id: str) -> Event:
    """The run's last GATE event (the gate's message and figures)."""
    store = Store.open(stack.store_url)
    try:
        with store.session() as s:
            return s.scalars(
                select(Event).where(Event.run_id == run_id, Event.kind == "gate").order_by(Event.id)
            ).all()[-1]
    finally:
        store.close()


@pytest.mark.parametrize("reviewer", ["serving", "base"])
def test_the_gold_free_gate_by_review_rolls_out_the_version_whose_answers_explain_the_questions(
    shared_stack, own_base, reviewer
):
    """gate_gold false, by review (the default): no held-out SQL is read and nothing is sampled. The
    round-1 adapter answers the first half of the held-out questions with their SQL where the base
    answers `SELECT 1`; both run, with different results, so the reviewer (the serving version, or
    the base model: here the same model, asked without an adapter) reviews them, and the scripted
    scores (`SELECT 1` explains no question) give the candidate those questions: it rolls out."""
    held_out = sorted(e.question for e in Catalogue.load(shared_stack.dataset).examples("dev"))
    good = set(held_out[: len(held_out) // 2])  # what the scripted adapter solves
    dev = Catalogue.load(shared_stack.dataset).examples("dev")[:6]
    stub = controller(shared_stack)
    before = len(shared_stack.fake.requests)
    spec = run_spec(own_base, mode="labelled", rounds=1, gate_gold=False, gate_reviewer=reviewer)
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    assert state(wait_for(stub, run.run_id)) == "completed"
    gate = last_gate_event(shared_stack, run.run_id)
    figures = gate.figures
    wins = sum(1 for e in dev if e.question in good)
    assert "gold-free" in gate.message and "by review" in gate.message and "roll out" in gate.message
    judge = "the base model judged" if reviewer == "base" else "the serving version judged"
    assert judge in gate.message, gate.message
    assert figures["gate_questions"] == 6 and figures["gate_reviewed"] == wins and wins >= 2
    assert (figures["paired_wins"], figures["paired_losses"]) == (wins, 0)
    asked = shared_stack.fake.requests[before:]
    reviews = [r for r in asked if (r.get("parameters") or {}).get("decoder_input_details")]
    assert len(reviews) == 2 * wins  # each differing question's two answers, scored once each
    assert not any((r.get("parameters") or {}).get("adapter_id") for r in reviews)  # by the base
    gate_prompts = [
        r for r in asked if any(e.question in r["inputs"].rsplit("-- Database:", 1)[-1] for e in dev)
    ]
    assert not any((r.get("parameters") or {}).get("do_sample") for r in gate_prompts)  # nothing sampled
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert outcome(rounds[0]) == "rolled_out"
    c = rounds[0].comparison
    assert c.gold_free and (c.gate_free_method, c.reviewed, c.wins) == ("review", wins, wins)
    assert c.gate_reviewer == reviewer
    from cli.report import gate_notes

    notes = "\n".join(gate_notes(rounds))
    assert "gold-free gate by review" in notes and judge in notes


def test_with_a_trained_version_serving_the_base_reviews_and_keeps_a_worse_candidate_out(
    shared_stack, own_base
):
    """Round 2 of a gold-free run: the round-2 adapter (scripted here) answers the held-out questions
    round 1's adapter solved with `SELECT 1`, as the base does. Both answers run with different
    results, so they are reviewed - by the base model (no adapter in the review requests), not by
    the serving round-1 adapter - and the candidate is rejected: round 1's version keeps serving."""
    script = shared_stack.fake.responder

    def second_round_forgets(prompt: str, parameters: dict) -> str:
        adapter = parameters.get("adapter_id") or ""
        if adapter.rstrip("/").endswith("-r2"):
            parameters = {k: v for k, v in parameters.items() if k != "adapter_id"}  # answers as the base
        return script(prompt, parameters)

    shared_stack.fake.responder = second_round_forgets
    try:
        stub = controller(shared_stack)
        spec = run_spec(own_base, mode="labelled", rounds=2, gate_gold=False, gate_reviewer="base")
        before = len(shared_stack.fake.requests)
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert state(wait_for(stub, run.run_id)) == "completed"
    finally:
        shared_stack.fake.responder = script
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert [outcome(r) for r in rounds] == ["rolled_out", "rejected"]
    second = rounds[1].comparison
    assert (second.gate_reviewer, second.wins) == ("base", 0) and second.losses == second.reviewed >= 2
    reviews = [
        r
        for r in shared_stack.fake.requests[before:]
        if (r.get("parameters") or {}).get("decoder_input_details")
    ]
    assert reviews and not any((r.get("parameters") or {}).get("adapter_id") for r in reviews)


def test_the_gold_free_gate_rolls_out_what_the_pooled_samples_agree_with(shared_stack, own_base, tmp_path):
    """gate_gold false: no held-out SQL is read. The scripted base answers the held-out questions
    wrong greedily but samples the right SQL for the first half (the round-1 adapter answers them
    right every time), so the two versions' pooled samples agree on the right SQL there: the
    candidate's greedy answers win on exactly those questions and the gold-free gate rolls it out."""
    script = shared_stack.fake.responder
    dev = Catalogue.load(shared_stack.dataset).examples("dev")
    gold = {e.question: e.query for e in dev}
    good = set(sorted(gold)[: len(gold) // 2])  # what the scripted adapter solves

    def base_samples_well(prompt: str, parameters: dict) -> str:
        question = prompt.rsplit("-- Question:", 1)[-1].split("\n", 1)[0].strip()
        if parameters.get("do_sample") and question in good:
            return f" {gold[question]};"
        return script(prompt, parameters)

    shared_stack.fake.responder = base_samples_well
    try:
        stub = controller(shared_stack)
        spec = run_spec(
            own_base, mode="labelled", rounds=1, gate_gold=False, gate_samples=2, gate_free_method="vote"
        )
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert state(wait_for(stub, run.run_id)) == "completed"
    finally:
        shared_stack.fake.responder = script  # the shared stack's model, as the next test expects it
    gate = last_gate_event(shared_stack, run.run_id)
    figures = gate.figures
    wins = sum(1 for e in dev[:6] if e.question in good)
    assert "gold-free" in gate.message and "roll out" in gate.message, gate.message
    assert figures["gate_gold_free"] == 1.0 and figures["gate_questions"] == 6
    assert figures["gate_pseudo_labelled"] == 6  # every question's pool agrees (on right or wrong SQL)
    assert (figures["paired_wins"], figures["paired_losses"]) == (wins, 0) and wins >= 2
    assert figures["new_executes"] == figures["serving_executes"] == 1.0
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert outcome(rounds[0]) == "rolled_out"
    c = rounds[0].comparison
    assert c.gold_free and (c.gate_questions, c.pseudo_labelled, c.wins) == (6, 6, wins)
    assert (c.gate_free_method, c.reviewed) == ("vote", 0)
    assert c.detectable_difference == 1.0  # six questions cannot show a significant difference
    from cli.report import build_report  # what `sqldistill report` writes

    text = build_report(stub, run.run_id, tmp_path / "report").read_text()
    assert "gold-free gate by vote" in text and "a decision on fewer than 100 questions" in text


def test_recipe_accumulates_trains_from_base_and_asks_each_version_with_its_prompt(shared_stack, own_base):
    stub = controller(shared_stack)
    spec = run_spec(
        own_base, mode="labelled", train_from_parent=False, gate_mode="significant", gate_alpha=0.5
    )
    earlier = len(shared_stack.fake.requests)  # what the model server was asked before this run
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    assert state(wait_for(stub, run.run_id)) == "completed"
    store = Store.open(shared_stack.store_url)
    with store.session() as s:
        rounds = {r.number: r for r in s.scalars(select(Round).where(Round.run_id == run.run_id))}
        paths = {n: s.get(Dataset, r.dataset_hash).path for n, r in rounds.items()}
        versions = {
            v.version: v for v in s.scalars(select(ModelVersion).where(ModelVersion.run_id == run.run_id))
        }
    first, second = _rows(paths[1]), _rows(paths[2])
    assert first and first <= second and len(second) > len(first)  # round 2 trains on rounds 1..2
    import json

    for version in versions.values():  # trained on zero-shot prompts, recorded with the version
        assert version.hyperparameters["prompt"]["few_shot_k"] == 0
        with open(f"{version.artifact_path}/manifest.json") as handle:
            manifest = json.load(handle)
        assert manifest["prompt"] == {
            "template": "sql-v1",
            "few_shot_k": 0,
            "repair_template": "repair-v1",
            "schema_token_budget": defaults.SCHEMA_TOKEN_BUDGET,
        }
        assert manifest["parent_version"] is None  # from the base each round, not from the parent
    with open(paths[1]) as handle:
        assert all(_shots(json.loads(line)["prompt"]) == 0 for line in handle)
    asked = [
        r for r in shared_stack.fake.requests[earlier:] if r.get("inputs", "").rstrip().endswith("-- SQL:")
    ]
    by_adapter = {bool(r.get("parameters", {}).get("adapter_id")) for r in asked}
    assert by_adapter == {True, False}
    for r in asked:  # the base is asked with the run's few_shot_k = 1, trained versions with none
        assert _shots(r["inputs"]) == (0 if r["parameters"].get("adapter_id") else 1)

    models = stub.ListModels(controller_pb2.ListModelsRequest(), timeout=10).models
    shown = {m.version: m.few_shot_k for m in models}
    assert all(shown[v] == 0 for v in versions) and 2 in {
        m.few_shot_k for m in models if m.version.startswith("base-") and m.base == str(own_base)
    }
    listed = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    c = listed[0].comparison
    dev = Catalogue.load(shared_stack.dataset).examples("dev")
    good = set(sorted(e.question for e in dev)[: len(dev) // 2])  # what the scripted adapter solves
    wins = sum(1 for e in dev[:6] if e.question in good)
    assert (c.questions, c.wins, c.losses) == (6, wins, 0) and wins >= 2
    assert c.difference == pytest.approx(wins / 6) and c.p_value == pytest.approx(2 * 0.5**wins)
    assert outcome(listed[0]) == "rolled_out"  # p < alpha 0.5
    assert listed[0].accuracy.execution_low < wins / 6 < listed[0].accuracy.execution_high
    gate = [
        e for e in stub.WatchRun(controller_pb2.RunRef(run_id=run.run_id), timeout=30) if e.kind == "gate"
    ]
    assert (
        f"{wins} wins, 0 losses" in gate[0].message and f"McNemar p = {2 * 0.5**wins:.3g}" in gate[0].message
    )


def test_a_teacher_writes_the_candidates_and_the_serving_version_is_restored(shared_stack, own_base):
    stub = controller(shared_stack)
    teacher = shared_stack.home.parent / "teachers" / "big"  # the fake model server answers for any path
    spec = run_spec(own_base, rounds=1, mode="labelled", teacher_model=common_pb2.ModelRef(path=str(teacher)))
    run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
    assert state(wait_for(stub, run.run_id)) == "completed"
    store = Store.open(shared_stack.store_url)
    with store.session() as s:
        writers = set(s.scalars(select(Candidate.model_version).where(Candidate.run_id == run.run_id)))
        serving = s.get(Run, run.run_id).serving_version
    assert writers == {"teacher-big"}
    generation = generation_pb2_grpc.GenerationServiceStub(make_channel(shared_stack.target("generation")))
    assert generation.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == serving
    rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run.run_id), timeout=10).rounds
    assert outcome(rounds[0]) == "rolled_out" and rounds[0].kept > 0  # the student learned from the teacher


def test_a_self_instruct_question_whose_own_sql_fails_is_labelled_by_its_reanswers(shared_stack, own_base):
    """A small model's pair often asks a fine question and writes broken SQL for it: the question is
    still re-answered, and when the re-answers agree, their SQL is kept for it."""
    script = shared_stack.fake.responder

    def broken_pairs(prompt: str, parameters: dict) -> str:
        text = script(prompt, parameters)
        if prompt.rstrip().endswith("-- Question:"):  # writing a pair: its SQL names no real column
            return text.replace("count(*)", "count(no_such_column)")
        return text

    shared_stack.fake.responder = broken_pairs
    try:
        stub = controller(shared_stack)
        spec = run_spec(
            own_base, mode="self_instruct", rounds=1, consistency_samples=2, train_from_parent=False
        )
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert state(wait_for(stub, run.run_id)) == "completed"
    finally:
        shared_stack.fake.responder = script  # the shared stack's model, as the next test expects it
    rows = judged(
        shared_stack, run.run_id, Candidate.question, Candidate.sql, Verdict.kept, Verdict.consistency
    )
    broken = [r for r in rows if "no_such_column" in r.sql]
    rescued = [r for r in rows if r.kept]
    assert broken and not any(r.kept for r in broken)  # the pair's own SQL never is
    assert rescued and all("count(*)" in r.sql for r in rescued)
    assert {r.question for r in rescued} <= {r.question for r in broken}
    assert all(r.consistency == 1.0 for r in rescued)  # both executable samples agree


def test_samples_that_fail_are_repaired_with_the_database_error_and_the_repairs_label_the_question(
    shared_stack, own_base
):
    """The model's first SQL for every train question names a column that does not exist; shown
    that SQL and SQLite's error, it writes the question's SQL. The repairs - not the failing SQL -
    are kept, each linked to what it repaired."""
    script = shared_stack.fake.responder
    train = {e.question for e in Catalogue.load(shared_stack.dataset).examples("train")}
    repair_prompts = []

    def fails_first(prompt: str, parameters: dict) -> str:
        text = script(prompt, parameters)
        target = prompt.rsplit("-- Database:", 1)[1]
        question = target.split("-- Question:", 1)[-1].split("\n", 1)[0].strip()
        if question not in train or target.rstrip().endswith("-- Question:"):
            return text
        if "-- Failed SQL:" in target:
            repair_prompts.append(target)
            return text
        return f" SELECT * FROM ({text.strip().rstrip(';')}) WHERE no_such_column IS NULL;"

    shared_stack.fake.responder = fails_first
    try:
        stub = controller(shared_stack)
        spec = run_spec(
            own_base,
            mode="unlabelled",
            rounds=1,
            db_ids=["library"],
            samples_per_question=2,
            questions_per_round=3,
            repair_attempts=1,
        )
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert state(wait_for(stub, run.run_id)) == "completed"
    finally:
        shared_stack.fake.responder = script
    rows = judged(
        shared_stack, run.run_id, Candidate.question, Candidate.sql, Candidate.repaired_sql, Verdict.kept
    )
    failing = [r for r in rows if "no_such_column" in r.sql]
    repaired = [r for r in rows if r.repaired_sql]
    assert len({r.question for r in failing}) == 3 and not any(r.kept for r in failing)
    assert {r.question for r in repaired} == {r.question for r in failing}
    assert all(
        r.kept and "no_such_column" in r.repaired_sql and "no_such_column" not in r.sql for r in repaired
    )
    assert len(repair_prompts) == 3  # each distinct failing SQL repaired once (its two samples share it)
    assert all("-- Error: no such column: no_such_column" in p for p in repair_prompts)
    listed = stub.ListCandidates(
        controller_pb2.ListCandidatesRequest(run_id=run.run_id, kept=True), timeout=10
    )
    assert {c.repaired_sql for c in listed.candidates} == {r.repaired_sql for r in repaired}


def test_a_dpo_round_trains_on_preferences_from_execution(shared_stack, own_base):
    """train_method dpo: the scripted base samples the gold SQL and, for every other sample, SQL that
    runs and returns the wrong rows; the critic keeps the gold and not the rest, so the frozen set
    holds preference rows (kept preferred to not kept) beside the supervised rows, and the round's
    version is one adapter trained by both phases."""
    script = shared_stack.fake.responder
    calls = {"n": 0}

    def sometimes_wrong(prompt: str, parameters: dict) -> str:
        calls["n"] += 1
        if parameters.get("do_sample") and calls["n"] % 2:
            return " SELECT 1 WHERE 0 = 1;"
        return script(prompt, parameters)

    shared_stack.fake.responder = sometimes_wrong
    try:
        stub = controller(shared_stack)
        spec = run_spec(own_base, mode="labelled", rounds=1, samples_per_question=2, train_method="dpo")
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec), timeout=30)
        assert state(wait_for(stub, run.run_id)) == "completed"
    finally:
        shared_stack.fake.responder = script
    store = Store.open(shared_stack.store_url)
    try:
        with store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run.run_id))
            path = s.get(Dataset, rnd.dataset_hash).path
            version = s.scalar(select(ModelVersion).where(ModelVersion.run_id == run.run_id))
    finally:
        store.close()
    rows = [json.loads(line) for line in open(path)]
    preferences = [r for r in rows if "chosen" in r]
    assert preferences and len(preferences) < len(rows)
    assert all(
        r["rejected"].strip() == "SELECT 1 WHERE 0 = 1;" and r["chosen"] != r["rejected"] for r in preferences
    )
    assert rnd.figures["preference_pairs"] == len(preferences)
    manifest = json.loads(open(f"{version.artifact_path}/manifest.json").read())
    assert manifest["method"] == "dpo" and manifest["metrics"]["dpo_pairs"] == len(preferences)
