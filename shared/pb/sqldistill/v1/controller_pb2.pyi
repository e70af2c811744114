from . import common_pb2 as _common_pb2
from . import critic_pb2 as _critic_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_PAUSED: _ClassVar[RunState]
    RUN_STATE_STOPPED: _ClassVar[RunState]
    RUN_STATE_COMPLETED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]

class Step(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_UNSPECIFIED: _ClassVar[Step]
    STEP_GENERATE: _ClassVar[Step]
    STEP_JUDGE: _ClassVar[Step]
    STEP_TRAIN: _ClassVar[Step]
    STEP_EVALUATE: _ClassVar[Step]
    STEP_ROLLOUT: _ClassVar[Step]
    STEP_REJECT: _ClassVar[Step]
    STEP_DONE: _ClassVar[Step]

class RoundOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUND_OUTCOME_UNSPECIFIED: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_ROLLED_OUT: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_REJECTED: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_ROLLOUT_FAILED: _ClassVar[RoundOutcome]

class VersionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERSION_STATUS_UNSPECIFIED: _ClassVar[VersionStatus]
    VERSION_STATUS_SERVING: _ClassVar[VersionStatus]
    VERSION_STATUS_CANDIDATE: _ClassVar[VersionStatus]
    VERSION_STATUS_REJECTED: _ClassVar[VersionStatus]
    VERSION_STATUS_RETIRED: _ClassVar[VersionStatus]

class RunMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_MODE_UNSPECIFIED: _ClassVar[RunMode]
    RUN_MODE_SELF_INSTRUCT: _ClassVar[RunMode]
    RUN_MODE_LABELLED: _ClassVar[RunMode]
    RUN_MODE_BOTH: _ClassVar[RunMode]
    RUN_MODE_UNLABELLED: _ClassVar[RunMode]

class FeedbackVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEEDBACK_VERDICT_UNSPECIFIED: _ClassVar[FeedbackVerdict]
    FEEDBACK_VERDICT_RIGHT: _ClassVar[FeedbackVerdict]
    FEEDBACK_VERDICT_WRONG: _ClassVar[FeedbackVerdict]
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_PAUSED: RunState
RUN_STATE_STOPPED: RunState
RUN_STATE_COMPLETED: RunState
RUN_STATE_FAILED: RunState
STEP_UNSPECIFIED: Step
STEP_GENERATE: Step
STEP_JUDGE: Step
STEP_TRAIN: Step
STEP_EVALUATE: Step
STEP_ROLLOUT: Step
STEP_REJECT: Step
STEP_DONE: Step
ROUND_OUTCOME_UNSPECIFIED: RoundOutcome
ROUND_OUTCOME_ROLLED_OUT: RoundOutcome
ROUND_OUTCOME_REJECTED: RoundOutcome
ROUND_OUTCOME_ROLLOUT_FAILED: RoundOutcome
VERSION_STATUS_UNSPECIFIED: VersionStatus
VERSION_STATUS_SERVING: VersionStatus
VERSION_STATUS_CANDIDATE: VersionStatus
VERSION_STATUS_REJECTED: VersionStatus
VERSION_STATUS_RETIRED: VersionStatus
RUN_MODE_UNSPECIFIED: RunMode
RUN_MODE_SELF_INSTRUCT: RunMode
RUN_MODE_LABELLED: RunMode
RUN_MODE_BOTH: RunMode
RUN_MODE_UNLABELLED: RunMode
FEEDBACK_VERDICT_UNSPECIFIED: FeedbackVerdict
FEEDBACK_VERDICT_RIGHT: FeedbackVerdict
FEEDBACK_VERDICT_WRONG: FeedbackVerdict

class RunSpec(_message.Message):
    __slots__ = ("name", "db_ids", "mode", "base_model", "rounds", "candidates_per_db", "samples_per_question", "complexity_mix", "test_suite", "consistency_samples", "train_method", "train_from_parent", "eval_split", "gate_margin", "seed", "sampling", "questions_per_round", "eval_limit", "train_max_steps", "learning_rate", "few_shot_k", "train_few_shot_k", "accumulate", "max_sql_per_question", "teacher_model", "gate_mode", "gate_alpha", "train_epochs", "train_on_seed", "continuous", "train_batch_size", "judge_timeout_seconds", "evaluate_timeout_seconds", "watch_timeout_seconds", "train_int8_base", "majority_share", "majority_min_votes", "eval_samples", "train_gradient_checkpointing", "train_precision", "constrain", "gate_gold", "gate_samples", "max_attempts", "repair_attempts", "eval_repair", "questions_from", "log_holdout", "min_new_questions", "round_interval_seconds", "generate_precision", "label_review", "label_review_margin", "gate_free_method", "gate_reviewer", "example_sets", "label_reviewer")
    class ComplexityMixEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DB_IDS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_PER_DB_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_QUESTION_FIELD_NUMBER: _ClassVar[int]
    COMPLEXITY_MIX_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    TRAIN_METHOD_FIELD_NUMBER: _ClassVar[int]
    TRAIN_FROM_PARENT_FIELD_NUMBER: _ClassVar[int]
    EVAL_SPLIT_FIELD_NUMBER: _ClassVar[int]
    GATE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_PER_ROUND_FIELD_NUMBER: _ClassVar[int]
    EVAL_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TRAIN_MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    TRAIN_FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    ACCUMULATE_FIELD_NUMBER: _ClassVar[int]
    MAX_SQL_PER_QUESTION_FIELD_NUMBER: _ClassVar[int]
    TEACHER_MODEL_FIELD_NUMBER: _ClassVar[int]
    GATE_MODE_FIELD_NUMBER: _ClassVar[int]
    GATE_ALPHA_FIELD_NUMBER: _ClassVar[int]
    TRAIN_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ON_SEED_FIELD_NUMBER: _ClassVar[int]
    CONTINUOUS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    JUDGE_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WATCH_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_INT8_BASE_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_SHARE_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_MIN_VOTES_FIELD_NUMBER: _ClassVar[int]
    EVAL_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    TRAIN_GRADIENT_CHECKPOINTING_FIELD_NUMBER: _ClassVar[int]
    TRAIN_PRECISION_FIELD_NUMBER: _ClassVar[int]
    CONSTRAIN_FIELD_NUMBER: _ClassVar[int]
    GATE_GOLD_FIELD_NUMBER: _ClassVar[int]
    GATE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REPAIR_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EVAL_REPAIR_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FROM_FIELD_NUMBER: _ClassVar[int]
    LOG_HOLDOUT_FIELD_NUMBER: _ClassVar[int]
    MIN_NEW_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    ROUND_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GENERATE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    LABEL_REVIEW_FIELD_NUMBER: _ClassVar[int]
    LABEL_REVIEW_MARGIN_FIELD_NUMBER: _ClassVar[int]
    GATE_FREE_METHOD_FIELD_NUMBER: _ClassVar[int]
    GATE_REVIEWER_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_SETS_FIELD_NUMBER: _ClassVar[int]
    LABEL_REVIEWER_FIELD_NUMBER: _ClassVar[int]
    name: str
    db_ids: _containers.RepeatedScalarFieldContainer[str]
    mode: RunMode
    base_model: _common_pb2.ModelRef
    rounds: int
    candidates_per_db: int
    samples_per_question: int
    complexity_mix: _containers.ScalarMap[str, float]
    test_suite: bool
    consistency_samples: int
    train_method: str
    train_from_parent: bool
    eval_split: str
    gate_margin: float
    seed: int
    sampling: _common_pb2.SamplingParams
    questions_per_round: int
    eval_limit: int
    train_max_steps: int
    learning_rate: float
    few_shot_k: int
    train_few_shot_k: int
    accumulate: bool
    max_sql_per_question: int
    teacher_model: _common_pb2.ModelRef
    gate_mode: str
    gate_alpha: float
    train_epochs: int
    train_on_seed: bool
    continuous: bool
    train_batch_size: int
    judge_timeout_seconds: float
    evaluate_timeout_seconds: float
    watch_timeout_seconds: float
    train_int8_base: bool
    majority_share: float
    majority_min_votes: int
    eval_samples: int
    train_gradient_checkpointing: bool
    train_precision: str
    constrain: str
    gate_gold: bool
    gate_samples: int
    max_attempts: int
    repair_attempts: int
    eval_repair: int
    questions_from: str
    log_holdout: float
    min_new_questions: int
    round_interval_seconds: float
    generate_precision: str
    label_review: bool
    label_review_margin: float
    gate_free_method: str
    gate_reviewer: str
    example_sets: int
    label_reviewer: str
    def __init__(self, name: _Optional[str] = ..., db_ids: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[RunMode, str]] = ..., base_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., rounds: _Optional[int] = ..., candidates_per_db: _Optional[int] = ..., samples_per_question: _Optional[int] = ..., complexity_mix: _Optional[_Mapping[str, float]] = ..., test_suite: _Optional[bool] = ..., consistency_samples: _Optional[int] = ..., train_method: _Optional[str] = ..., train_from_parent: _Optional[bool] = ..., eval_split: _Optional[str] = ..., gate_margin: _Optional[float] = ..., seed: _Optional[int] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ..., questions_per_round: _Optional[int] = ..., eval_limit: _Optional[int] = ..., train_max_steps: _Optional[int] = ..., learning_rate: _Optional[float] = ..., few_shot_k: _Optional[int] = ..., train_few_shot_k: _Optional[int] = ..., accumulate: _Optional[bool] = ..., max_sql_per_question: _Optional[int] = ..., teacher_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., gate_mode: _Optional[str] = ..., gate_alpha: _Optional[float] = ..., train_epochs: _Optional[int] = ..., train_on_seed: _Optional[bool] = ..., continuous: _Optional[bool] = ..., train_batch_size: _Optional[int] = ..., judge_timeout_seconds: _Optional[float] = ..., evaluate_timeout_seconds: _Optional[float] = ..., watch_timeout_seconds: _Optional[float] = ..., train_int8_base: _Optional[bool] = ..., majority_share: _Optional[float] = ..., majority_min_votes: _Optional[int] = ..., eval_samples: _Optional[int] = ..., train_gradient_checkpointing: _Optional[bool] = ..., train_precision: _Optional[str] = ..., constrain: _Optional[str] = ..., gate_gold: _Optional[bool] = ..., gate_samples: _Optional[int] = ..., max_attempts: _Optional[int] = ..., repair_attempts: _Optional[int] = ..., eval_repair: _Optional[int] = ..., questions_from: _Optional[str] = ..., log_holdout: _Optional[float] = ..., min_new_questions: _Optional[int] = ..., round_interval_seconds: _Optional[float] = ..., generate_precision: _Optional[str] = ..., label_review: _Optional[bool] = ..., label_review_margin: _Optional[float] = ..., gate_free_method: _Optional[str] = ..., gate_reviewer: _Optional[str] = ..., example_sets: _Optional[int] = ..., label_reviewer: _Optional[str] = ...) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: RunSpec
    def __init__(self, spec: _Optional[_Union[RunSpec, _Mapping]] = ...) -> None: ...

class RunRef(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ResumeRunRequest(_message.Message):
    __slots__ = ("run_id", "more_rounds")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MORE_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    more_rounds: int
    def __init__(self, run_id: _Optional[str] = ..., more_rounds: _Optional[int] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("run_id", "name", "state", "current_round", "current_step", "spec", "serving_version", "waiting_for")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ROUND_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STEP_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    SERVING_VERSION_FIELD_NUMBER: _ClassVar[int]
    WAITING_FOR_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    name: str
    state: RunState
    current_round: int
    current_step: Step
    spec: RunSpec
    serving_version: str
    waiting_for: str
    def __init__(self, run_id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., current_round: _Optional[int] = ..., current_step: _Optional[_Union[Step, str]] = ..., spec: _Optional[_Union[RunSpec, _Mapping]] = ..., serving_version: _Optional[str] = ..., waiting_for: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("run_id", "round", "step", "kind", "message", "figures", "created_at")
    class FiguresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    round: int
    step: Step
    kind: str
    message: str
    figures: _containers.ScalarMap[str, float]
    created_at: str
    def __init__(self, run_id: _Optional[str] = ..., round: _Optional[int] = ..., step: _Optional[_Union[Step, str]] = ..., kind: _Optional[str] = ..., message: _Optional[str] = ..., figures: _Optional[_Mapping[str, float]] = ..., created_at: _Optional[str] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("run_id", "number", "step", "outcome", "generated", "kept", "model_version", "accuracy", "serving_accuracy", "comparison", "generate_precision")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    SERVING_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    GENERATE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    number: int
    step: Step
    outcome: RoundOutcome
    generated: int
    kept: int
    model_version: str
    accuracy: _common_pb2.Accuracy
    serving_accuracy: _common_pb2.Accuracy
    comparison: Comparison
    generate_precision: str
    def __init__(self, run_id: _Optional[str] = ..., number: _Optional[int] = ..., step: _Optional[_Union[Step, str]] = ..., outcome: _Optional[_Union[RoundOutcome, str]] = ..., generated: _Optional[int] = ..., kept: _Optional[int] = ..., model_version: _Optional[str] = ..., accuracy: _Optional[_Union[_common_pb2.Accuracy, _Mapping]] = ..., serving_accuracy: _Optional[_Union[_common_pb2.Accuracy, _Mapping]] = ..., comparison: _Optional[_Union[Comparison, _Mapping]] = ..., generate_precision: _Optional[str] = ...) -> None: ...

class Comparison(_message.Message):
    __slots__ = ("questions", "wins", "losses", "difference", "difference_low", "difference_high", "p_value", "detectable_difference", "gold_free", "gate_questions", "pseudo_labelled", "new_executes", "serving_executes", "gate_free_method", "reviewed", "gate_reviewer")
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_LOW_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    DETECTABLE_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    GOLD_FREE_FIELD_NUMBER: _ClassVar[int]
    GATE_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    PSEUDO_LABELLED_FIELD_NUMBER: _ClassVar[int]
    NEW_EXECUTES_FIELD_NUMBER: _ClassVar[int]
    SERVING_EXECUTES_FIELD_NUMBER: _ClassVar[int]
    GATE_FREE_METHOD_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_FIELD_NUMBER: _ClassVar[int]
    GATE_REVIEWER_FIELD_NUMBER: _ClassVar[int]
    questions: int
    wins: int
    losses: int
    difference: float
    difference_low: float
    difference_high: float
    p_value: float
    detectable_difference: float
    gold_free: bool
    gate_questions: int
    pseudo_labelled: int
    new_executes: float
    serving_executes: float
    gate_free_method: str
    reviewed: int
    gate_reviewer: str
    def __init__(self, questions: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., difference: _Optional[float] = ..., difference_low: _Optional[float] = ..., difference_high: _Optional[float] = ..., p_value: _Optional[float] = ..., detectable_difference: _Optional[float] = ..., gold_free: _Optional[bool] = ..., gate_questions: _Optional[int] = ..., pseudo_labelled: _Optional[int] = ..., new_executes: _Optional[float] = ..., serving_executes: _Optional[float] = ..., gate_free_method: _Optional[str] = ..., reviewed: _Optional[int] = ..., gate_reviewer: _Optional[str] = ...) -> None: ...

class ListRoundsResponse(_message.Message):
    __slots__ = ("rounds",)
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    rounds: _containers.RepeatedCompositeFieldContainer[Round]
    def __init__(self, rounds: _Optional[_Iterable[_Union[Round, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("version", "base", "parent", "run_id", "round", "dataset_hash", "artifact_path", "status", "accuracy", "created_at", "few_shot_k", "asked")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    DATASET_HASH_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    ASKED_FIELD_NUMBER: _ClassVar[int]
    version: str
    base: str
    parent: str
    run_id: str
    round: int
    dataset_hash: str
    artifact_path: str
    status: VersionStatus
    accuracy: _common_pb2.Accuracy
    created_at: str
    few_shot_k: int
    asked: AskedFigures
    def __init__(self, version: _Optional[str] = ..., base: _Optional[str] = ..., parent: _Optional[str] = ..., run_id: _Optional[str] = ..., round: _Optional[int] = ..., dataset_hash: _Optional[str] = ..., artifact_path: _Optional[str] = ..., status: _Optional[_Union[VersionStatus, str]] = ..., accuracy: _Optional[_Union[_common_pb2.Accuracy, _Mapping]] = ..., created_at: _Optional[str] = ..., few_shot_k: _Optional[int] = ..., asked: _Optional[_Union[AskedFigures, _Mapping]] = ...) -> None: ...

class AskedFigures(_message.Message):
    __slots__ = ("answered", "executable", "agreement", "marked_right", "marked_wrong", "log_questions", "log_execution")
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    MARKED_RIGHT_FIELD_NUMBER: _ClassVar[int]
    MARKED_WRONG_FIELD_NUMBER: _ClassVar[int]
    LOG_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    LOG_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    answered: int
    executable: float
    agreement: float
    marked_right: int
    marked_wrong: int
    log_questions: int
    log_execution: float
    def __init__(self, answered: _Optional[int] = ..., executable: _Optional[float] = ..., agreement: _Optional[float] = ..., marked_right: _Optional[int] = ..., marked_wrong: _Optional[int] = ..., log_questions: _Optional[int] = ..., log_execution: _Optional[float] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelVersion]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelVersion, _Mapping]]] = ...) -> None: ...

class RollBackRequest(_message.Message):
    __slots__ = ("version", "force", "requested_by")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    version: str
    force: bool
    requested_by: str
    def __init__(self, version: _Optional[str] = ..., force: _Optional[bool] = ..., requested_by: _Optional[str] = ...) -> None: ...

class ListCandidatesRequest(_message.Message):
    __slots__ = ("run_id", "round", "kept", "limit")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    round: int
    kept: bool
    limit: int
    def __init__(self, run_id: _Optional[str] = ..., round: _Optional[int] = ..., kept: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class CandidateSummary(_message.Message):
    __slots__ = ("id", "round", "db_id", "question", "sql", "source", "kept", "reasons", "hardness", "repaired_sql")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_SQL_FIELD_NUMBER: _ClassVar[int]
    id: str
    round: int
    db_id: str
    question: str
    sql: str
    source: str
    kept: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    hardness: str
    repaired_sql: str
    def __init__(self, id: _Optional[str] = ..., round: _Optional[int] = ..., db_id: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[str] = ..., source: _Optional[str] = ..., kept: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ..., hardness: _Optional[str] = ..., repaired_sql: _Optional[str] = ...) -> None: ...

class ListCandidatesResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[CandidateSummary]
    def __init__(self, candidates: _Optional[_Iterable[_Union[CandidateSummary, _Mapping]]] = ...) -> None: ...

class AskRequest(_message.Message):
    __slots__ = ("question", "db_id", "version", "samples", "max_rows", "repair_attempts", "asked_by", "request_id", "on_source")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    REPAIR_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ASKED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ON_SOURCE_FIELD_NUMBER: _ClassVar[int]
    question: str
    db_id: str
    version: str
    samples: int
    max_rows: int
    repair_attempts: int
    asked_by: str
    request_id: str
    on_source: bool
    def __init__(self, question: _Optional[str] = ..., db_id: _Optional[str] = ..., version: _Optional[str] = ..., samples: _Optional[int] = ..., max_rows: _Optional[int] = ..., repair_attempts: _Optional[int] = ..., asked_by: _Optional[str] = ..., request_id: _Optional[str] = ..., on_source: _Optional[bool] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("sql", "version", "few_shot_k", "samples", "agreement_votes", "executable", "status", "error", "result", "row_count", "elapsed_ms", "repaired_sql", "repaired_error", "answer_id", "source_sql", "source_result", "source_error", "source_differs")
    SQL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_VOTES_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_SQL_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_ERROR_FIELD_NUMBER: _ClassVar[int]
    ANSWER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SQL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RESULT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ERROR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DIFFERS_FIELD_NUMBER: _ClassVar[int]
    sql: str
    version: str
    few_shot_k: int
    samples: int
    agreement_votes: int
    executable: int
    status: _critic_pb2.ExecutionStatus
    error: str
    result: _common_pb2.ResultSet
    row_count: int
    elapsed_ms: float
    repaired_sql: str
    repaired_error: str
    answer_id: str
    source_sql: str
    source_result: _common_pb2.ResultSet
    source_error: str
    source_differs: bool
    def __init__(self, sql: _Optional[str] = ..., version: _Optional[str] = ..., few_shot_k: _Optional[int] = ..., samples: _Optional[int] = ..., agreement_votes: _Optional[int] = ..., executable: _Optional[int] = ..., status: _Optional[_Union[_critic_pb2.ExecutionStatus, str]] = ..., error: _Optional[str] = ..., result: _Optional[_Union[_common_pb2.ResultSet, _Mapping]] = ..., row_count: _Optional[int] = ..., elapsed_ms: _Optional[float] = ..., repaired_sql: _Optional[str] = ..., repaired_error: _Optional[str] = ..., answer_id: _Optional[str] = ..., source_sql: _Optional[str] = ..., source_result: _Optional[_Union[_common_pb2.ResultSet, _Mapping]] = ..., source_error: _Optional[str] = ..., source_differs: _Optional[bool] = ...) -> None: ...

class FeedbackRequest(_message.Message):
    __slots__ = ("answer_id", "verdict", "corrected_sql", "note", "given_by")
    ANSWER_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_SQL_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    GIVEN_BY_FIELD_NUMBER: _ClassVar[int]
    answer_id: str
    verdict: FeedbackVerdict
    corrected_sql: str
    note: str
    given_by: str
    def __init__(self, answer_id: _Optional[str] = ..., verdict: _Optional[_Union[FeedbackVerdict, str]] = ..., corrected_sql: _Optional[str] = ..., note: _Optional[str] = ..., given_by: _Optional[str] = ...) -> None: ...

class FeedbackReply(_message.Message):
    __slots__ = ("answer_id", "verdict", "gold_sql", "row_count")
    ANSWER_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    GOLD_SQL_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    answer_id: str
    verdict: FeedbackVerdict
    gold_sql: str
    row_count: int
    def __init__(self, answer_id: _Optional[str] = ..., verdict: _Optional[_Union[FeedbackVerdict, str]] = ..., gold_sql: _Optional[str] = ..., row_count: _Optional[int] = ...) -> None: ...
