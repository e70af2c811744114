"""The controller's typed client of the trainer: a job submitted for a round's frozen dataset, its
progress streamed, and the finished version's manifest read from the job's reply (the controller
never reads the trainer's files)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.controller.calls import Caller
from shared.pb import common_pb2, trainer_pb2


@dataclass(frozen=True)
class JobRequest:
    run_id: str
    round: int
    dataset_hash: str
    dataset_path: str
    base_model: str  # path / hub id / packaged name, as a ModelRef's path
    version: str
    params: trainer_pb2.TrainingParams
    parent_version: str = ""


class TrainerClient:
    def __init__(self, stub: object, call: Caller) -> None:
        self._stub = stub
        self._call = call

    def submit(self, job: JobRequest) -> trainer_pb2.Job:
        """Returns at once; the same (run, round, dataset) returns the existing job."""
        request = trainer_pb2.SubmitJobRequest(
            run_id=job.run_id,
            round=job.round,
            dataset_hash=job.dataset_hash,
            dataset_path=job.dataset_path,
            base_model=common_pb2.ModelRef(path=job.base_model),
            parent_version=job.parent_version,
            version=job.version,
            params=job.params,
        )
        return self._call(lambda: self._stub.SubmitJob(request), "trainer service (submit job)")

    def watch(self, job_id: str, timeout: float) -> list[trainer_pb2.JobProgress]:
        """The job's progress until it ends or the stream's deadline passes (then watch again)."""
        ref = trainer_pb2.JobRef(job_id=job_id)
        return self._call(
            lambda: list(self._stub.WatchJob(ref, timeout=timeout)), "trainer service (watch job)"
        )


def manifest_of(job: trainer_pb2.Job) -> dict[str, Any]:
    """The finished version's manifest as the trainer sent it ({} before it SUCCEEDED)."""
    return json.loads(job.manifest_json) if job.manifest_json else {}
