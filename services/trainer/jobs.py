"""The trainer's logic, free of gRPC: validated, idempotent job submission, a monitor per job that
records state in the store, progress streams, cancellation, and recovery after a restart."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from services.trainer.job_spec import JobRequest, JobView, Progress, TrainSpec, check_params
from services.trainer.launchers import Launcher
from shared.confine import Roots, check_name
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.store import Store, TrainingJob
from shared.training_data import file_hash

log = logging.getLogger("sqldistill.trainer")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def job_id_for(run_id: str, round_number: int, dataset_hash: str) -> str:
    return hashlib.sha256(f"{run_id}|{round_number}|{dataset_hash}".encode()).hexdigest()[:16]


class JobManager:
    def __init__(
        self,
        store: Store,
        launchers: dict[str, Launcher],
        home: Path,
        default_launcher: str = "local",
        poll_seconds: float = 0.5,
        roots: Roots | None = None,
        concurrency: dict[str, int] | None = None,
    ) -> None:
        self.store = store
        # Jobs run at most this many at a time per launcher (0 = no limit); the rest wait PENDING.
        self.concurrency = {"local": 1} if concurrency is None else concurrency
        self._dispatch_lock = threading.Lock()
        # Requests may name models and datasets only inside these (home/models, home/datasets by default).
        self.roots = roots or Roots((Path(home) / "models",), (Path(home) / "datasets",))
        self.launchers = launchers
        self.home = Path(home)
        self.default_launcher = default_launcher
        self.poll_seconds = poll_seconds
        self._monitors: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # --- paths -------------------------------------------------------------------------------
    def work_dir(self, job_id: str) -> Path:
        return self.home / "jobs" / job_id

    def version_dir(self, version: str) -> Path:
        return self.home / "models" / "versions" / version

    # --- submit -------------------------------------------------------------------------------
    def submit(self, request: JobRequest) -> JobView:
        self._validate(request)
        job_id = job_id_for(request.run_id, request.round, request.dataset_hash)
        with self.store.session() as session:
            existing = session.get(TrainingJob, job_id)
            if existing is not None:  # the same dataset for the same round: the same job
                return self._view(existing)
        launcher_name = request.launcher or self.default_launcher
        if launcher_name not in self.launchers:
            raise InvalidArgument(
                f"unknown launcher {launcher_name!r}; this trainer has {', '.join(self.launchers)}"
            )
        version = request.version or f"{request.run_id}-r{request.round}-{request.dataset_hash[:8]}"
        parent_path = ""
        if request.parent_version:
            parent = self.version_dir(request.parent_version)
            if not (parent / "manifest.json").is_file():
                raise FailedPrecondition(
                    f"parent version {request.parent_version!r} has no model folder at {parent}"
                )
            parent_path = str(parent)
        spec = TrainSpec(
            job_id=job_id,
            base_model=request.base_model,
            dataset_path=str(Path(request.dataset_path).resolve()),
            dataset_hash=request.dataset_hash,
            output_dir=str(self.version_dir(version)),
            work_dir=str(self.work_dir(job_id)),
            version=version,
            run_id=request.run_id,
            round=request.round,
            parent_version=request.parent_version,
            parent_path=parent_path,
            models_dir=str(self.home / "models"),
            params=request.params,
        )
        work_dir = self.work_dir(job_id)
        work_dir.mkdir(parents=True, exist_ok=True)
        spec.dump(work_dir / "spec.json")
        row = {
            "id": job_id,
            "run_id": request.run_id,
            "round": request.round,
            "dataset_hash": request.dataset_hash,
            "version": version,
            "launcher": launcher_name,
            "state": "PENDING",
            "params": asdict(spec),
        }
        with self.store.session() as session:
            if self.store.insert_ignore(session, TrainingJob, [row]) == 0:  # lost a race: same job
                return self._view(session.get(TrainingJob, job_id))
        self._dispatch()
        return self.get(job_id)

    def _dispatch(self) -> None:
        """Start queued jobs, oldest first, while their launcher has room."""
        with self._dispatch_lock:
            with self.store.session() as session:
                active = session.query(TrainingJob).filter(TrainingJob.state.in_(("PENDING", "RUNNING")))
                jobs = active.order_by(TrainingJob.created_at, TrainingJob.id).all()
                running = Counter(j.launcher for j in jobs if j.state == "RUNNING")
                starting = []
                for job in jobs:
                    limit = self.concurrency.get(job.launcher, 0)
                    if job.state == "PENDING" and not (limit and running[job.launcher] >= limit):
                        running[job.launcher] += 1
                        starting.append(job.id)
            for job_id in starting:
                self._launch(job_id)

    def _validate(self, request: JobRequest) -> None:
        """Names and paths first (no file-system fact reaches a caller whose path is outside the
        roots), then the dataset and the parameters."""
        if not request.run_id:
            raise InvalidArgument("run_id is required")
        check_name(request.run_id, "run_id")
        check_name(request.version, "version", required=False)
        check_name(request.parent_version, "parent_version", required=False)
        check_name(request.launcher, "launcher", required=False)
        if not 0 <= request.round <= 1_000_000:
            raise InvalidArgument("round must be within [0, 1000000]")
        if not request.base_model:
            raise InvalidArgument("base_model is required")
        if not request.dataset_hash or not re.fullmatch(r"[0-9a-f]{1,64}", request.dataset_hash):
            raise InvalidArgument("dataset_hash must be 1 to 64 lower-case hex digits")
        self.roots.model(request.base_model, "base_model")
        path = self.roots.dataset(request.dataset_path, "dataset_path")
        if not path.is_file():
            raise FailedPrecondition(f"dataset {path} does not exist")
        if path.stat().st_size == 0:
            raise FailedPrecondition(f"dataset {path} is empty")
        actual = file_hash(path)
        if actual != request.dataset_hash:
            raise FailedPrecondition(
                f"dataset hash mismatch: request says {request.dataset_hash}, file has {actual}"
            )
        if os.path.isabs(request.base_model) and not os.path.exists(request.base_model):
            raise FailedPrecondition(f"base model {request.base_model} does not exist")
        check_params(request.params)

    def _launch(self, job_id: str) -> None:
        with self.store.session() as session:
            job = session.get(TrainingJob, job_id)
            launcher = self.launchers[job.launcher]
            labels = {"sqldistill.io/run": _label(job.run_id), "sqldistill.io/round": str(job.round)}
            launcher.start(job_id, self.work_dir(job_id) / "spec.json", labels)
            job.state = "RUNNING"
        self._monitor(job_id)

    def _monitor(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._monitors and self._monitors[job_id].is_alive():
                return
            thread = threading.Thread(
                target=self._watch_process, args=(job_id,), name=f"job-{job_id}", daemon=True
            )
            self._monitors[job_id] = thread
            thread.start()

    def _watch_process(self, job_id: str) -> None:
        if self._watch_until_done(job_id):
            self._dispatch()  # a launcher slot is free: start the next queued job

    def _watch_until_done(self, job_id: str) -> bool:
        while not self._stopping.is_set():
            with self.store.session() as session:
                job = session.get(TrainingJob, job_id)
                if job is None or job.state in TERMINAL:
                    return True
                launcher = self.launchers[job.launcher]
                status = launcher.status(job_id)
                if status.running:
                    pass
                elif status.exit_code == 0 and (self.version_dir(job.version) / "manifest.json").is_file():
                    job.state, job.artifact_path = "SUCCEEDED", str(self.version_dir(job.version))
                    log.info("job %s succeeded: %s", job_id, job.artifact_path)
                    return True
                else:
                    tail = launcher.log_tail(job_id) or status.message
                    job.state = "FAILED"
                    job.error = f"training exited with code {status.exit_code}: {tail}"[-4000:]
                    log.warning("job %s failed (exit %s)", job_id, status.exit_code)
                    return True
            time.sleep(self.poll_seconds)
        return False

    # --- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """After a restart: relaunch every job that was RUNNING (it resumes from its last checkpoint;
        a finished version folder is kept as is), then start queued ones as room allows."""
        with self.store.session() as session:
            active = session.query(TrainingJob).filter(TrainingJob.state.in_(("PENDING", "RUNNING")))
            ids = [j.id for j in active]
            running = [j.id for j in active if j.state == "RUNNING"]
        for job_id in running:
            log.info("recovering job %s", job_id)
            self._launch(job_id)
        self._dispatch()
        return ids

    # --- queries -------------------------------------------------------------------------------
    def _view(self, job: TrainingJob) -> JobView:
        final_loss, manifest_json = 0.0, ""
        if job.state == "SUCCEEDED" and job.artifact_path:
            manifest = Path(job.artifact_path) / "manifest.json"
            if manifest.is_file():
                manifest_json = manifest.read_text()
                final_loss = json.loads(manifest_json)["metrics"].get("final_loss") or 0.0
        return JobView(
            job.id,
            job.state,
            job.run_id,
            job.round,
            job.dataset_hash,
            job.version,
            job.artifact_path or "",
            job.error or "",
            final_loss,
            manifest_json,
        )

    def get(self, job_id: str) -> JobView:
        if not job_id:
            raise InvalidArgument("job_id is required")
        with self.store.session() as session:
            job = session.get(TrainingJob, job_id)
            if job is None:
                raise NotFound(f"no training job {job_id!r}")
            return self._view(job)

    def cancel(self, job_id: str) -> JobView:
        view = self.get(job_id)
        if view.state in TERMINAL:
            return view
        with self.store.session() as session:
            job = session.get(TrainingJob, job_id)
            if job.state == "RUNNING":  # a queued job has nothing to stop
                self.launchers[job.launcher].cancel(job_id)
            job.state = "CANCELLED"
            job.error = "cancelled"
        self._dispatch()
        return self.get(job_id)

    def progress_events(self, job_id: str) -> list[dict[str, Any]]:
        path = self.work_dir(job_id) / "progress.jsonl"
        if not path.is_file():
            return []
        events = []
        for line in path.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written
        return events

    def watch(
        self, job_id: str, is_active: Any = lambda: True, poll_seconds: float = 0.25
    ) -> Iterator[Progress]:
        """Progress as training reports it, then the terminal state with the job."""
        self.get(job_id)
        seen = 0
        while is_active():
            view = self.get(job_id)
            events = self.progress_events(job_id)
            for event in events[seen:]:
                if event.get("step") is not None and event.get("state") == "RUNNING":
                    yield Progress(
                        job_id,
                        "RUNNING",
                        int(event.get("step", 0)),
                        int(event.get("total_steps", 0)),
                        float(event.get("loss") or 0.0),
                        float(event.get("tokens_per_second") or 0.0),
                        float(event.get("eta_seconds") or 0.0),
                    )
            seen = len(events)
            if view.state in TERMINAL:
                last = next((e for e in reversed(events) if e.get("total_steps")), {})
                yield Progress(
                    job_id,
                    view.state,
                    int(last.get("step", 0)),
                    int(last.get("total_steps", 0)),
                    float(last.get("loss") or 0.0),
                    job=view,
                )
                return
            time.sleep(poll_seconds)

    def close(self) -> None:
        self._stopping.set()


def _label(value: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]", "-", value)[:63].strip("-._") or "none"
