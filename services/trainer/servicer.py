"""The trainer's gRPC servicer: message translation around services.trainer.jobs."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.trainer.job_spec import JobRequest, JobView, Progress, TrainingParams
from services.trainer.jobs import JobManager
from shared.pb import trainer_pb2, trainer_pb2_grpc
from shared.pbconvert import dataclass_from, message_from

STATES = {
    "PENDING": trainer_pb2.JOB_STATE_PENDING,
    "RUNNING": trainer_pb2.JOB_STATE_RUNNING,
    "SUCCEEDED": trainer_pb2.JOB_STATE_SUCCEEDED,
    "FAILED": trainer_pb2.JOB_STATE_FAILED,
    "CANCELLED": trainer_pb2.JOB_STATE_CANCELLED,
}


def params_from(message: trainer_pb2.TrainingParams) -> TrainingParams:
    return dataclass_from(TrainingParams, message, length_grouped=not message.disable_length_grouping)


def job_message(view: JobView) -> trainer_pb2.Job:
    return message_from(trainer_pb2.Job, view, state=STATES[view.state])


def progress_message(progress: Progress) -> trainer_pb2.JobProgress:
    job = {"job": job_message(progress.job)} if progress.job is not None else {"job": None}
    return message_from(trainer_pb2.JobProgress, progress, state=STATES[progress.state], **job)


class TrainerServicer(trainer_pb2_grpc.TrainerServiceServicer):
    def __init__(self, manager: JobManager) -> None:
        self.manager = manager

    def SubmitJob(
        self, request: trainer_pb2.SubmitJobRequest, context: grpc.ServicerContext
    ) -> trainer_pb2.Job:
        job = self.manager.submit(
            JobRequest(
                run_id=request.run_id,
                round=request.round,
                dataset_path=request.dataset_path,
                dataset_hash=request.dataset_hash,
                base_model=request.base_model.path or request.base_model.version,
                version=request.version,
                parent_version=request.parent_version,
                params=params_from(request.params),
                launcher=request.launcher,
            )
        )
        return job_message(job)

    def WatchJob(
        self, request: trainer_pb2.JobRef, context: grpc.ServicerContext
    ) -> Iterator[trainer_pb2.JobProgress]:
        for progress in self.manager.watch(request.job_id, is_active=context.is_active):
            yield progress_message(progress)

    def CancelJob(self, request: trainer_pb2.JobRef, context: grpc.ServicerContext) -> trainer_pb2.Job:
        return job_message(self.manager.cancel(request.job_id))

    def GetJob(self, request: trainer_pb2.JobRef, context: grpc.ServicerContext) -> trainer_pb2.Job:
        return job_message(self.manager.get(request.job_id))
