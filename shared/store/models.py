"""The store's tables: everything the controller needs to resume a run after a crash.

Natural keys carry unique constraints so a repeated write after a crash is a no-op
(see `Store.insert_ignore`), never a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    lineage: Mapped[str] = mapped_column(String(500), index=True)  # base model key: one active run each
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(
        String(20), default="running"
    )  # running|paused|stopped|completed|failed
    current_round: Mapped[int] = mapped_column(Integer, default=0)
    serving_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # A continuous run on the question log between rounds: what it waits for (None: not waiting)
    waiting_for: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("run_id", "number", name="uq_round_run_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(20), default="GENERATE")  # GENERATE..DONE
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)  # rolled_out | rejected
    model_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    dataset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    training_job_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("run_id", "round", "key", name="uq_candidate_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))  # content hash: what makes a candidate "the same"
    db_id: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    sql: Mapped[str] = mapped_column(Text)
    gold_sql: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(20))  # self_instruct | labelled | unlabelled
    hardness: Mapped[str | None] = mapped_column(String(10), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resampled_sql: Mapped[list[Any]] = mapped_column(default=list)
    # off | identifiers | full: the grammar its SQL was written under (None: before it was recorded)
    constrain: Mapped[str | None] = mapped_column(String(12), nullable=True)
    # Written by a repair: the failing SQL (a candidate of the same question) it repairs; None otherwise
    repaired_sql: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Verdict(Base):
    __tablename__ = "verdicts"

    candidate_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    kept: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(30))
    canonical_sql: Mapped[str | None] = mapped_column(Text, nullable=True)
    hardness: Mapped[str | None] = mapped_column(String(10), nullable=True)
    execution_match: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    test_suite_match: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    consistency: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dataset(Base):
    __tablename__ = "datasets"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the frozen JSONL
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    round: Mapped[int | None] = mapped_column(Integer, nullable=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(100), primary_key=True)
    base: Mapped[str] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(ForeignKey("model_versions.version"), nullable=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    round: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_hash: Mapped[str | None] = mapped_column(ForeignKey("datasets.hash"), nullable=True)
    artifact_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="candidate")  # serving|candidate|rejected|retired
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrainingJob(Base):
    __tablename__ = "training_jobs"
    __table_args__ = (UniqueConstraint("run_id", "round", "dataset_hash", name="uq_job_run_round_dataset"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)
    dataset_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(100))
    launcher: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="PENDING")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("model_version", "split", name="uq_evaluation_version_split"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(ForeignKey("model_versions.version", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(Integer)
    execution: Mapped[float] = mapped_column(Float)
    test_suite: Mapped[float | None] = mapped_column(Float, nullable=True)
    by_hardness: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # question id -> [execution match, test-suite match]: what makes two versions' results comparable pairwise
    per_question: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # off | identifiers | full: the grammar the answers were written under (None: before it was recorded)
    constrain: Mapped[str | None] = mapped_column(String(12), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AskedQuestion(Base):
    """A question someone asked (Ask, RPC or CLI) and how it was answered: the start of the question
    log that later runs learn from (#34)."""

    __tablename__ = "asked_questions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the answer id the reply shows
    db_id: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(100))  # the version that answered
    few_shot_k: Mapped[int] = mapped_column(Integer)  # the prompt it was asked with
    sql: Mapped[str] = mapped_column(Text)
    samples: Mapped[int] = mapped_column(Integer)  # answers that voted
    agreement_votes: Mapped[int] = mapped_column(Integer)
    executable: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30))  # the answer's execution status in the sandbox
    error: Mapped[str] = mapped_column(Text, default="")
    row_count: Mapped[int] = mapped_column(Integer)
    elapsed_ms: Mapped[float] = mapped_column(Float)
    repaired_sql: Mapped[str | None] = mapped_column(Text, nullable=True)  # the answer is its repair
    origin: Mapped[str] = mapped_column(String(10), default="ask", server_default="ask")  # ask | import
    asked_by: Mapped[str] = mapped_column(String(128), default="", server_default="")  # client's name
    # A person's SQL for the question: a correction, the answer marked right, or imported with it
    gold_sql: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback: Mapped[str] = mapped_column(String(8), default="", server_default="")  # "" | right | wrong
    feedback_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    feedback_by: Mapped[str] = mapped_column(String(128), default="", server_default="")
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)  # asked
    # When it reached the log (an import of last year's questions is new today): what runs count by
    logged_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp(), index=True
    )


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    round: Mapped[int | None] = mapped_column(Integer, nullable=True)
    step: Mapped[str | None] = mapped_column(String(20), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Source(Base):
    """A team's database that sqldistill snapshots into the sandbox (#35). Never a password: the URL
    is kept without one, and says where the password comes from at connect time."""

    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # its database id in the dataset
    url: Mapped[str] = mapped_column(Text)  # without password
    password_env: Mapped[str] = mapped_column(String(128), default="")
    password_file: Mapped[str] = mapped_column(Text, default="")
    source_schema: Mapped[str] = mapped_column(String(128), default="")  # "" = the source's default
    snapshot_rows: Mapped[int] = mapped_column(Integer)  # rows copied per table (0 = all)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the last snapshot's totals
    last_error: Mapped[str] = mapped_column(Text, default="")  # the last refresh's failure ("" = none)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
