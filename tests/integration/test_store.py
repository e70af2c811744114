"""The store on real SQLite files and a real PostgreSQL server: migrations, every entity round-trips,
duplicate writes are no-ops, concurrent writers and concurrent migrations."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from shared.store import (
    Base,
    Candidate,
    Dataset,
    Evaluation,
    Event,
    ModelVersion,
    Round,
    Run,
    Store,
    TrainingJob,
    Verdict,
)


def test_migration_upgrades_an_empty_database_to_the_models(store_url):
    store = Store.open(store_url)
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    store.migrate()  # a second upgrade is a no-op
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0007"


def test_every_entity_round_trips(store_url):
    store = Store.open(store_url)
    with store.session() as s:
        s.add(Run(id="run-1", name="demo", lineage="base-model", spec={"rounds": 2, "mode": "both"}))
        s.flush()
        s.add(Round(run_id="run-1", number=1, step="JUDGE", figures={"generated": 10}))
        s.add(
            Candidate(
                id="c1",
                run_id="run-1",
                round=1,
                key="k1",
                db_id="concert",
                question="How many?",
                sql="SELECT count(*) FROM singer",
                source="labelled",
                gold_sql="SELECT count(*) FROM singer",
                resampled_sql=["SELECT 1"],
            )
        )
        s.flush()
        s.add(
            Verdict(
                candidate_id="c1",
                kept=True,
                reasons=[],
                status="OK",
                canonical_sql="select count(*) from singer",
                hardness="easy",
                execution_match=True,
                test_suite_match=True,
            )
        )
        s.add(Dataset(hash="h" * 64, run_id="run-1", round=1, path="/data/r1.jsonl", size=1))
        s.flush()
        s.add(ModelVersion(version="v0", base="base-model", artifact_path="/models/v0", status="serving"))
        s.flush()
        s.add(
            ModelVersion(
                version="v1",
                base="base-model",
                parent="v0",
                run_id="run-1",
                round=1,
                dataset_hash="h" * 64,
                artifact_path="/models/v1",
                hyperparameters={"lr": 1e-4},
                metrics={"loss": 0.5},
            )
        )
        s.add(
            TrainingJob(
                id="job-1", run_id="run-1", round=1, dataset_hash="h" * 64, version="v1", launcher="local"
            )
        )
        s.flush()
        s.add(
            Evaluation(
                model_version="v1",
                split="dev",
                total=4,
                execution=0.5,
                test_suite=0.25,
                by_hardness={"easy": {"total": 2, "execution": 1.0}},
            )
        )
        s.add(
            Event(
                run_id="run-1", round=1, step="JUDGE", kind="step_done", message="kept 1", figures={"kept": 1}
            )
        )
    store.close()

    store = Store.open(store_url)  # a fresh engine reads what the first wrote
    with store.session() as s:
        run = s.get(Run, "run-1")
        assert (
            run.spec == {"rounds": 2, "mode": "both"}
            and run.state == "running"
            and run.created_at is not None
        )
        assert s.scalars(select(Round)).one().figures == {"generated": 10}
        assert s.get(Candidate, "c1").resampled_sql == ["SELECT 1"]
        assert s.get(Verdict, "c1").hardness == "easy"
        assert s.get(Dataset, "h" * 64).size == 1
        v1 = s.get(ModelVersion, "v1")
        assert (v1.parent, v1.status, v1.hyperparameters) == ("v0", "candidate", {"lr": 1e-4})
        assert s.get(TrainingJob, "job-1").state == "PENDING"
        assert s.scalars(select(Evaluation)).one().by_hardness["easy"]["execution"] == 1.0
        assert s.scalars(select(Event)).one().figures == {"kept": 1}


def _candidate_row(**overrides):
    row = dict(
        id="c1",
        run_id="run-1",
        round=1,
        key="k1",
        db_id="concert",
        question="q",
        sql="SELECT 1",
        source="self_instruct",
    )
    row.update(overrides)
    return row


def test_duplicate_candidate_insert_is_a_no_op(store_url):
    store = Store.open(store_url)
    with store.session() as s:
        s.add(Run(id="run-1", lineage="m"))
    with store.session() as s:
        assert store.insert_ignore(s, Candidate, [_candidate_row()]) == 1
    with store.session() as s:  # same id again, and same natural key under another id
        assert (
            store.insert_ignore(s, Candidate, [_candidate_row(), _candidate_row(id="c2", sql="SELECT 2")])
            == 0
        )
        assert store.insert_ignore(s, Candidate, [_candidate_row(id="c3", key="k3")]) == 1
    with store.session() as s:
        rows = s.scalars(select(Candidate).order_by(Candidate.id)).all()
        assert [(c.id, c.sql) for c in rows] == [("c1", "SELECT 1"), ("c3", "SELECT 1")]


def test_upsert_updates_non_key_columns(store_url):
    store = Store.open(store_url)
    with store.session() as s:
        s.add(Run(id="run-1", lineage="m"))
        s.flush()
        s.add(Round(run_id="run-1", number=1, step="GENERATE"))
    with store.session() as s:
        store.upsert(s, Round, {"run_id": "run-1", "number": 1, "step": "TRAIN"}, keys=["run_id", "number"])
        store.upsert(
            s, Round, {"run_id": "run-1", "number": 2, "step": "GENERATE"}, keys=["run_id", "number"]
        )
    with store.session() as s:
        assert [(r.number, r.step) for r in s.scalars(select(Round).order_by(Round.number))] == [
            (1, "TRAIN"),
            (2, "GENERATE"),
        ]


def test_failed_session_rolls_back(store_url):
    store = Store.open(store_url)
    try:
        with store.session() as s:
            s.add(Run(id="run-1", lineage="m"))
            s.flush()
            raise RuntimeError("crash mid-step")
    except RuntimeError:
        pass
    with store.session() as s:
        assert s.get(Run, "run-1") is None


def test_services_starting_together_migrate_a_fresh_store_once(store_url, tmp_path):
    """Every service migrates on start; six processes at once on a new store must all succeed."""
    import subprocess
    import sys
    import time

    url = store_url
    go = tmp_path / "go"
    code = (  # import first, then all start migrating at the same moment
        "import os, sys, time; from shared.store import Store\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.005)\n"
        "Store.open(sys.argv[1])"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, url, str(go)], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    time.sleep(8)  # every process has imported (not a timing assertion: only a start barrier)
    go.touch()
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, errors
    store = Store.open(url)
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_concurrent_writers_insert_the_same_candidates_once(store_url, tmp_path):
    """Two processes insert the same 200 candidates at the same moment: no duplicate, no error."""
    import subprocess
    import sys
    import time

    store = Store.open(store_url)
    with store.session() as s:
        s.add(Run(id="run-1", lineage="m"))
    go = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "from shared.store import Candidate, Store\n"
        "store = Store.open(sys.argv[1])\n"
        "rows = [dict(id=f'c{i}', run_id='run-1', round=1, key=f'k{i}', db_id='concert', question='q',"
        " sql='SELECT 1', source='self_instruct') for i in range(200)]\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.005)\n"
        "for start in range(0, 200, 20):\n"
        "    with store.session() as s: store.insert_ignore(s, Candidate, rows[start:start + 20])\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", code, store_url, str(go)], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(6)  # both have imported and connected (a start barrier, not a timing assertion)
    go.touch()
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    with store.session() as s:
        assert s.scalar(select(sa.func.count()).select_from(Candidate)) == 200
