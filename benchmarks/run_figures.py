"""A bench run's figures, read back from its store for the report (the run never sees them): the
whole table of a finished run (run_result), minutes per step, where self-instruct generation went,
the questions kept, and - against the withheld gold SQL - whether each majority label was right."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.critic.matching import order_matters, results_match
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import Config
from shared.event_kinds import EventKind
from shared.schema import open_readonly
from shared.stats import compare_paired, wilson_interval
from shared.store import Candidate, Evaluation, Event, ModelVersion, Round, Run, Store, Verdict

STEPS = ("GENERATE", "JUDGE", "TRAIN", "EVALUATE")


QUERY_SECONDS = 10.0  # a benchmark's re-executed query (gold or sample) is stopped after this long


def step_minutes(events: list[Event]) -> dict[int, dict[str, float]]:
    """Minutes per step per round, from the step_started events' times."""
    out: dict[int, dict[str, float]] = {}
    starts = sorted((e.created_at, e.round, e.step) for e in events if e.kind == EventKind.STEP_STARTED)
    for (at, number, step), following in zip(starts, starts[1:] + [(None, None, None)], strict=True):
        end = following[0] or at
        out.setdefault(number, {})[step] = (end - at).total_seconds() / 60
    return out


def active_minutes(events: list[Event]) -> float:
    """Minutes the run was running: from its start (or a later extension by more rounds) to the
    completion that followed, summed - not the days a finished run sat before it was extended."""
    total, since = 0.0, None
    for event in sorted(events, key=lambda e: e.id):
        if event.kind in (EventKind.RUN_STARTED, EventKind.RUN_EXTENDED) and since is None:
            since = event.created_at
        elif event.kind == EventKind.RUN_COMPLETED and since is not None:
            total += (event.created_at - since).total_seconds() / 60
            since = None
    return round(total, 1)


def generation_parts(events: list[Event]) -> dict[int, dict[str, float]]:
    """Where self-instruct generation minutes went (pair writing, re-answers), and the pairs dropped
    as near-duplicates before re-answering, from the task_done events' figures."""
    out: dict[int, dict[str, float]] = {}
    for e in events:
        if e.kind == EventKind.TASK_DONE and (e.figures or {}).get("pair_seconds") is not None:
            row = out.setdefault(e.round, {})
            for key in (
                "pair_seconds",
                "reanswer_seconds",
                "pairs",
                "near_duplicates",
            ):
                row[key] = round(row.get(key, 0) + (e.figures.get(key) or 0), 1)
    return out


def label_outcomes(
    session: Any, catalogue: Catalogue, run_id: str | None = None
) -> dict[tuple[int, str, str], tuple[float, bool | None]]:
    """Unlabelled mode, for reports only (the run never saw this): each (round, database, question)
    a majority labelled - of one run, or of every run in the store - with its winning group's
    agreement share and whether any kept SQL returns the withheld gold's result (None: no gold)."""
    gold = {(e.db_id, e.question): e.query for e in catalogue.examples("train")}
    query = (
        select(Candidate.round, Candidate.db_id, Candidate.question, Candidate.sql, Verdict.consistency)
        .join(Verdict, Verdict.candidate_id == Candidate.id)
        .where(Candidate.source == "unlabelled", Verdict.kept.is_(True))
    )
    if run_id is not None:
        query = query.where(Candidate.run_id == run_id)
    kept: dict[tuple[int, str, str], tuple[float, list[str]]] = {}
    for number, db_id, question, sql, share in session.execute(query).all():
        kept.setdefault((number, db_id, question), (share or 0.0, []))[1].append(sql)
    out: dict[tuple[int, str, str], tuple[float, bool | None]] = {}
    for (number, db_id, question), (share, sqls) in kept.items():
        truth = gold.get((db_id, question), "")
        right = any(same_result(catalogue.path(db_id), truth, sql) for sql in sqls) if truth else None
        out[(number, db_id, question)] = (share, right)
    return out


def majorities(session: Any, run_id: str, catalogue: Catalogue) -> dict[int, dict[str, int]]:
    """Unlabelled mode, for the report only: per round, the questions asked, those a majority
    labelled, and how many of those labels match the withheld gold SQL (label_outcomes)."""
    asked = session.execute(
        select(Candidate.round, Candidate.db_id, Candidate.question)
        .where(Candidate.run_id == run_id, Candidate.source == "unlabelled")
        .distinct()
    ).all()
    out: dict[int, dict[str, int]] = {}
    for number, _db_id, _question in asked:
        out.setdefault(number, {"asked": 0, "labelled": 0, "labels_right": 0})["asked"] += 1
    for (number, _db_id, _question), (_share, right) in label_outcomes(session, catalogue, run_id).items():
        out[number]["labelled"] += 1
        out[number]["labels_right"] += bool(right)
    return out


def kept_questions(session: Any, run_id: str) -> dict[int, int]:
    """Per round: distinct (database, question) with at least one kept candidate - what training
    gains, whatever the number of SQL kept per question."""
    rows = session.execute(
        select(Candidate.round, Candidate.db_id, Candidate.question)
        .join(Verdict, Verdict.candidate_id == Candidate.id)
        .where(Candidate.run_id == run_id, Verdict.kept.is_(True))
        .distinct()
    ).all()
    out: dict[int, int] = {}
    for number, _db_id, _question in rows:
        out[number] = out.get(number, 0) + 1
    return out


def same_result(path: Path, gold: str, sql: str) -> bool:
    connection = open_readonly(path)
    started = time.monotonic()
    connection.set_progress_handler(lambda: int(time.monotonic() - started > QUERY_SECONDS), 10_000)
    try:
        return results_match(
            connection.execute(gold).fetchall(), connection.execute(sql).fetchall(), order_matters(gold)
        )
    except sqlite3.Error:
        return False
    finally:
        connection.close()


def ex_by_question(evaluation: Evaluation) -> dict[str, bool]:
    """An evaluation's execution match per question id."""
    return {q: bool(r[0]) for q, r in (evaluation.per_question or {}).items()}


def run_result(
    mode: str, name: str, home: Path, config: Config, run_id: str, total_minutes: float | None = None
) -> dict[str, Any]:
    """A finished run's figures, read back from its store (all but the minutes end to end, which
    are the run's own when not given: a bench that stopped after its run re-reads it this way)."""
    store = Store.open(config.resolved_store_url)
    try:
        with store.session() as s:
            run_row = s.get(Run, run_id)
            state, spec = run_row.state, json.loads(json.dumps(run_row.spec))
            rounds = list(s.scalars(select(Round).where(Round.run_id == run_row.id).order_by(Round.number)))
            events = list(s.scalars(select(Event).where(Event.run_id == run_row.id)))
            if total_minutes is None:
                total_minutes = active_minutes(events)
            evaluations = {e.model_version: e for e in s.scalars(select(Evaluation))}
            versions = {v.version: v for v in s.scalars(select(ModelVersion))}
            base = next(v for v in versions.values() if not v.artifact_path)
            base_eval = evaluations.get(base.version)
            minutes = step_minutes(events)
            parts = generation_parts(events)
            kept = kept_questions(s, run_row.id)
            labels = {}
            if mode == "unlabelled":  # the only mode whose labels come from majorities
                try:
                    labels = majorities(
                        s, run_row.id, Catalogue.load(config.dataset or bundled_dataset_path(config))
                    )
                except Exception as exc:  # noqa: BLE001 - a report-only figure never loses the run's table
                    print(f"majority check failed: {exc!r}", flush=True)
            table = []
            for rnd in rounds:
                evaluation = evaluations.get(rnd.model_version or "")
                row: dict[str, Any] = {
                    "round": rnd.number,
                    "generated": rnd.figures.get("generated", 0),
                    "kept": rnd.figures.get("kept", 0),
                    "questions_kept": kept.get(rnd.number, 0),
                    "dataset_size": rnd.figures.get("dataset_size", 0),
                    "minutes": {k: round(v, 1) for k, v in minutes.get(rnd.number, {}).items() if k in STEPS},
                    "outcome": rnd.outcome,
                    "version": rnd.model_version,
                    "parent": versions[rnd.model_version].parent if rnd.model_version in versions else None,
                    "generate_precision": rnd.figures.get("generate_precision", ""),
                    **labels.get(rnd.number, {}),
                    **parts.get(rnd.number, {}),
                }
                if evaluation is not None and base_eval is not None:
                    low, high = wilson_interval(
                        round(evaluation.execution * evaluation.total), evaluation.total
                    )
                    vs_base = compare_paired(ex_by_question(evaluation), ex_by_question(base_eval))
                    parent = versions[rnd.model_version].parent
                    vs_parent = (
                        compare_paired(ex_by_question(evaluation), ex_by_question(evaluations[parent]))
                        if parent in evaluations
                        else None
                    )
                    row |= {
                        "ex": round(evaluation.execution, 4),
                        "ex_interval": [round(low, 4), round(high, 4)],
                        "wins_vs_base": vs_base.wins,
                        "losses_vs_base": vs_base.losses,
                        "gain_vs_base": round(vs_base.difference, 4),
                        "p_vs_base": round(vs_base.p_value, 4),
                        "gain_vs_parent": round(vs_parent.difference, 4) if vs_parent else None,
                        "wins_vs_parent": vs_parent.wins if vs_parent else None,
                        "losses_vs_parent": vs_parent.losses if vs_parent else None,
                    }
                table.append(row)
    finally:
        store.close()
    base_figures = {}
    if base_eval is not None:
        low, high = wilson_interval(round(base_eval.execution * base_eval.total), base_eval.total)
        base_figures = {
            "version": base.version,
            "ex": round(base_eval.execution, 4),
            "ex_interval": [round(low, 4), round(high, 4)],
            "questions": base_eval.total,
            "split": base_eval.split,
        }
    rolled = [r for r in table if r["outcome"] == "rolled_out" and "ex" in r]
    return {
        "mode": mode,
        "arm": name,
        "home": str(home),
        "store_url": config.resolved_store_url,
        "run_id": run_id,
        "state": state,
        "spec": spec,
        "base": base_figures,
        "rounds": table,
        "best_rolled_out_gain_vs_base": max((r["gain_vs_base"] for r in rolled), default=None),
        "every_rollout_at_least_its_parent": all((r["gain_vs_parent"] or 0) >= 0 for r in rolled),
        "total_minutes": round(total_minutes, 1),
    }
