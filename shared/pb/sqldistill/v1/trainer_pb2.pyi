from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_PENDING: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_PENDING: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class TrainingParams(_message.Message):
    __slots__ = ("method", "lora_rank", "lora_alpha", "target_modules", "learning_rate", "epochs", "max_steps", "batch_size", "gradient_accumulation", "max_length", "seed", "disable_length_grouping", "checkpoint_every", "merge", "int8_base", "gradient_checkpointing", "precision")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LORA_RANK_FIELD_NUMBER: _ClassVar[int]
    LORA_ALPHA_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_ACCUMULATION_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    DISABLE_LENGTH_GROUPING_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_EVERY_FIELD_NUMBER: _ClassVar[int]
    MERGE_FIELD_NUMBER: _ClassVar[int]
    INT8_BASE_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_CHECKPOINTING_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    method: str
    lora_rank: int
    lora_alpha: int
    target_modules: _containers.RepeatedScalarFieldContainer[str]
    learning_rate: float
    epochs: int
    max_steps: int
    batch_size: int
    gradient_accumulation: int
    max_length: int
    seed: int
    disable_length_grouping: bool
    checkpoint_every: int
    merge: bool
    int8_base: bool
    gradient_checkpointing: bool
    precision: str
    def __init__(self, method: _Optional[str] = ..., lora_rank: _Optional[int] = ..., lora_alpha: _Optional[int] = ..., target_modules: _Optional[_Iterable[str]] = ..., learning_rate: _Optional[float] = ..., epochs: _Optional[int] = ..., max_steps: _Optional[int] = ..., batch_size: _Optional[int] = ..., gradient_accumulation: _Optional[int] = ..., max_length: _Optional[int] = ..., seed: _Optional[int] = ..., disable_length_grouping: _Optional[bool] = ..., checkpoint_every: _Optional[int] = ..., merge: _Optional[bool] = ..., int8_base: _Optional[bool] = ..., gradient_checkpointing: _Optional[bool] = ..., precision: _Optional[str] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("run_id", "round", "dataset_hash", "dataset_path", "base_model", "parent_version", "version", "params", "launcher")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    DATASET_HASH_FIELD_NUMBER: _ClassVar[int]
    DATASET_PATH_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    LAUNCHER_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    round: int
    dataset_hash: str
    dataset_path: str
    base_model: _common_pb2.ModelRef
    parent_version: str
    version: str
    params: TrainingParams
    launcher: str
    def __init__(self, run_id: _Optional[str] = ..., round: _Optional[int] = ..., dataset_hash: _Optional[str] = ..., dataset_path: _Optional[str] = ..., base_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., parent_version: _Optional[str] = ..., version: _Optional[str] = ..., params: _Optional[_Union[TrainingParams, _Mapping]] = ..., launcher: _Optional[str] = ...) -> None: ...

class JobRef(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "state", "run_id", "round", "dataset_hash", "version", "artifact_path", "error", "final_loss", "manifest_json")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    DATASET_HASH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_PATH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: JobState
    run_id: str
    round: int
    dataset_hash: str
    version: str
    artifact_path: str
    error: str
    final_loss: float
    manifest_json: str
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., run_id: _Optional[str] = ..., round: _Optional[int] = ..., dataset_hash: _Optional[str] = ..., version: _Optional[str] = ..., artifact_path: _Optional[str] = ..., error: _Optional[str] = ..., final_loss: _Optional[float] = ..., manifest_json: _Optional[str] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("job_id", "state", "step", "total_steps", "loss", "tokens_per_second", "eta_seconds", "job")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: JobState
    step: int
    total_steps: int
    loss: float
    tokens_per_second: float
    eta_seconds: float
    job: Job
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., loss: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...
