"""The controller's vocabularies as enums: steps of a round, its outcomes, version statuses, run
states and modes. StrEnum members equal their strings, so the store's columns and the proto's
string fields keep their values."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    GENERATE = "GENERATE"
    JUDGE = "JUDGE"
    TRAIN = "TRAIN"
    EVALUATE = "EVALUATE"
    ROLLOUT = "ROLLOUT"
    REJECT = "REJECT"
    DONE = "DONE"


class Outcome(StrEnum):
    ROLLED_OUT = "rolled_out"
    REJECTED = "rejected"
    ROLLOUT_FAILED = "rollout_failed"


class VersionStatus(StrEnum):
    SERVING = "serving"
    CANDIDATE = "candidate"
    REJECTED = "rejected"
    RETIRED = "retired"


class RunState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


class Mode(StrEnum):
    SELF_INSTRUCT = "self_instruct"
    LABELLED = "labelled"
    BOTH = "both"
    UNLABELLED = "unlabelled"  # train questions without their SQL: labelled by execution majority
