"""The kinds of event in a run's stream: the controller records them, the CLI and the benchmarks read
them (RunEvent.kind carries the word). StrEnum members equal their strings, as stored."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    STEP_STARTED = "step_started"
    STEP_DONE = "step_done"
    STEP_FAILED = "step_failed"  # retried; the third since the run last started running fails it
    TASK_DONE = "task_done"  # one chunk of GENERATE stored (its figures: candidates, timings)
    JOB_SUBMITTED = "job_submitted"
    PROGRESS = "progress"  # training steps done / total
    SKIPPED = "skipped"  # nothing kept: no training this round; or a label review the backend cannot do
    FAILED = "failed"  # a training job failed
    GATE = "gate"  # EVALUATE's decision with its figures
    ROLLOUT = "rollout"
    ROLLOUT_FAILED = "rollout_failed"
    RUN_STARTED = "run_started"
    RUN_RESUMED = "run_resumed"  # the controller restarted and picked the run up again
    RUN_PAUSED = "run_paused"
    RUN_RUNNING = "run_running"  # resumed after a pause or a failure
    RUN_STOPPED = "run_stopped"
    RUN_COMPLETED = "run_completed"
    RUN_EXTENDED = "run_extended"  # given more rounds (`sqldistill resume RUN --more-rounds N`)
    RUN_FAILED = "run_failed"
    ROLLBACK = "rollback"
    WAITING = "waiting"  # a continuous run on the question log waits for new questions
