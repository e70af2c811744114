"""The trainer's gRPC servicer: message translation around services.trainer.jobs."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from services.trainer.job_spec import TrainingParams
from services.trainer.jobs import JobManager, JobRequest, JobView, Progress
from shared.pb import trainer_pb2, trainer_pb2_grpc

STATES = {
    "PENDING": trainer_pb2.JOB_STATE_PENDING,
    "RUNNING": trainer_pb2.JOB_STATE_RUNNING,
    "SUCCEEDED": trainer_pb2.JOB_STATE_SUCCEEDED,
    "FAILED": trainer_pb2.JOB_STATE_FAILED,
    "CANCELLED": trainer_pb2.JOB_STATE_CANCELLED,
}


def params_from(message: trainer_pb2.TrainingParams) -> TrainingParams:
    defaults = TrainingParams()
    return TrainingParams(
        method=message.method or defaults.method,
        lora_rank=message.lora_rank or defaults.lora_rank,
        lora_alpha=message.lora_alpha or defaults.lora_alpha,
        target_modules=list(message.target_modules) or defaults.target_modules,
        learning_rate=message.learning_rate or defaults.learning_rate,
        epochs=message.epochs or defaults.epochs,
        max_steps=message.max_steps,
        batch_size=message.batch_size or defaults.batch_size,
        gradient_accumulation=message.gradient_accumulation or defaults.gradient_accumulation,
        max_length=message.max_length or defaults.max_length,
        seed=message.seed,
        length_grouped=not message.disable_length_grouping,
        checkpoint_every=message.checkpoint_every or defaults.checkpoint_every,
        merge=message.merge,
        int8_base=message.int8_base,
        gradient_checkpointing=message.gradient_checkpointing,
        precision=message.precision or defaults.precision,
    )


def job_message(view: JobView) -> trainer_pb2.Job:
    return trainer_pb2.Job(
        job_id=view.job_id,
        state=STATES[view.state],
        run_id=view.run_id,
        round=view.round,
        dataset_hash=view.dataset_hash,
        version=view.version,
        artifact_path=view.artifact_path,
        error=view.error,
        final_loss=view.final_loss,
    )


def progress_message(progress: Progress) -> trainer_pb2.JobProgress:
    message = trainer_pb2.JobProgress(
        job_id=progress.job_id,
        state=STATES[progress.state],
        step=progress.step,
        total_steps=progress.total_steps,
        loss=progress.loss,
        tokens_per_second=progress.tokens_per_second,
        eta_seconds=progress.eta_seconds,
    )
    if progress.job is not None:
        message.job.CopyFrom(job_message(progress.job))
    return message


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
