from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelSlot(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_SLOT_SERVING: _ClassVar[ModelSlot]
    MODEL_SLOT_WORK: _ClassVar[ModelSlot]
MODEL_SLOT_SERVING: ModelSlot
MODEL_SLOT_WORK: ModelSlot

class GeneratePairsRequest(_message.Message):
    __slots__ = ("db_id", "n", "hardness", "few_shot_k", "sampling", "slot", "focus", "levels", "constrain")
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    FOCUS_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    CONSTRAIN_FIELD_NUMBER: _ClassVar[int]
    db_id: str
    n: int
    hardness: str
    few_shot_k: int
    sampling: _common_pb2.SamplingParams
    slot: ModelSlot
    focus: _containers.RepeatedCompositeFieldContainer[TableFocus]
    levels: _containers.RepeatedScalarFieldContainer[str]
    constrain: str
    def __init__(self, db_id: _Optional[str] = ..., n: _Optional[int] = ..., hardness: _Optional[str] = ..., few_shot_k: _Optional[int] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ..., slot: _Optional[_Union[ModelSlot, str]] = ..., focus: _Optional[_Iterable[_Union[TableFocus, _Mapping]]] = ..., levels: _Optional[_Iterable[str]] = ..., constrain: _Optional[str] = ...) -> None: ...

class TableFocus(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tables: _Optional[_Iterable[str]] = ...) -> None: ...

class GeneratedPair(_message.Message):
    __slots__ = ("db_id", "question", "sql", "hardness", "model_version", "constrain")
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONSTRAIN_FIELD_NUMBER: _ClassVar[int]
    db_id: str
    question: str
    sql: str
    hardness: str
    model_version: str
    constrain: str
    def __init__(self, db_id: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[str] = ..., hardness: _Optional[str] = ..., model_version: _Optional[str] = ..., constrain: _Optional[str] = ...) -> None: ...

class QuestionItem(_message.Message):
    __slots__ = ("id", "db_id", "question", "evidence", "failed_sql", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    FAILED_SQL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    db_id: str
    question: str
    evidence: str
    failed_sql: str
    error: str
    def __init__(self, id: _Optional[str] = ..., db_id: _Optional[str] = ..., question: _Optional[str] = ..., evidence: _Optional[str] = ..., failed_sql: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class GenerateSqlRequest(_message.Message):
    __slots__ = ("questions", "n", "few_shot_k", "sampling", "slot", "constrain", "example_sets")
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    CONSTRAIN_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_SETS_FIELD_NUMBER: _ClassVar[int]
    questions: _containers.RepeatedCompositeFieldContainer[QuestionItem]
    n: int
    few_shot_k: int
    sampling: _common_pb2.SamplingParams
    slot: ModelSlot
    constrain: str
    example_sets: int
    def __init__(self, questions: _Optional[_Iterable[_Union[QuestionItem, _Mapping]]] = ..., n: _Optional[int] = ..., few_shot_k: _Optional[int] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ..., slot: _Optional[_Union[ModelSlot, str]] = ..., constrain: _Optional[str] = ..., example_sets: _Optional[int] = ...) -> None: ...

class SqlCandidates(_message.Message):
    __slots__ = ("question_id", "sql", "dropped")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    sql: _containers.RepeatedScalarFieldContainer[str]
    dropped: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, question_id: _Optional[str] = ..., sql: _Optional[_Iterable[str]] = ..., dropped: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateSqlResponse(_message.Message):
    __slots__ = ("results", "model_version", "constrain")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONSTRAIN_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SqlCandidates]
    model_version: str
    constrain: str
    def __init__(self, results: _Optional[_Iterable[_Union[SqlCandidates, _Mapping]]] = ..., model_version: _Optional[str] = ..., constrain: _Optional[str] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("model", "slot", "precision")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    slot: ModelSlot
    precision: str
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., slot: _Optional[_Union[ModelSlot, str]] = ..., precision: _Optional[str] = ...) -> None: ...

class DescribeModelRequest(_message.Message):
    __slots__ = ("slot",)
    SLOT_FIELD_NUMBER: _ClassVar[int]
    slot: ModelSlot
    def __init__(self, slot: _Optional[_Union[ModelSlot, str]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("version", "path", "adapter_path", "backend", "device", "num_parameters", "context_window", "slot", "precision", "reviews")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_PATH_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    NUM_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    version: str
    path: str
    adapter_path: str
    backend: str
    device: str
    num_parameters: int
    context_window: int
    slot: ModelSlot
    precision: str
    reviews: bool
    def __init__(self, version: _Optional[str] = ..., path: _Optional[str] = ..., adapter_path: _Optional[str] = ..., backend: _Optional[str] = ..., device: _Optional[str] = ..., num_parameters: _Optional[int] = ..., context_window: _Optional[int] = ..., slot: _Optional[_Union[ModelSlot, str]] = ..., precision: _Optional[str] = ..., reviews: _Optional[bool] = ...) -> None: ...

class ReviewSqlRequest(_message.Message):
    __slots__ = ("db_id", "question", "sql", "few_shot_k", "slot")
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    FEW_SHOT_K_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    db_id: str
    question: str
    sql: _containers.RepeatedScalarFieldContainer[str]
    few_shot_k: int
    slot: ModelSlot
    def __init__(self, db_id: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[_Iterable[str]] = ..., few_shot_k: _Optional[int] = ..., slot: _Optional[_Union[ModelSlot, str]] = ...) -> None: ...

class ReviewSqlResponse(_message.Message):
    __slots__ = ("logprob", "model_version")
    LOGPROB_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    logprob: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    def __init__(self, logprob: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ...) -> None: ...
