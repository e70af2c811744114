from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Value(_message.Message):
    __slots__ = ("null", "integer", "real", "text", "blob")
    NULL_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    REAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    null: bool
    integer: int
    real: float
    text: str
    blob: bytes
    def __init__(self, null: _Optional[bool] = ..., integer: _Optional[int] = ..., real: _Optional[float] = ..., text: _Optional[str] = ..., blob: _Optional[bytes] = ...) -> None: ...

class Row(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class ResultSet(_message.Message):
    __slots__ = ("columns", "rows", "truncated")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[Row]
    truncated: bool
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[Row, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("temperature", "top_p", "max_new_tokens", "seed", "stop")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    top_p: float
    max_new_tokens: int
    seed: int
    stop: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_new_tokens: _Optional[int] = ..., seed: _Optional[int] = ..., stop: _Optional[_Iterable[str]] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("id", "db_id", "question", "sql", "gold_sql", "source", "model_version", "hardness", "resampled_sql")
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    GOLD_SQL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    RESAMPLED_SQL_FIELD_NUMBER: _ClassVar[int]
    id: str
    db_id: str
    question: str
    sql: str
    gold_sql: str
    source: str
    model_version: str
    hardness: str
    resampled_sql: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., db_id: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[str] = ..., gold_sql: _Optional[str] = ..., source: _Optional[str] = ..., model_version: _Optional[str] = ..., hardness: _Optional[str] = ..., resampled_sql: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelRef(_message.Message):
    __slots__ = ("version", "path", "adapter_path")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_PATH_FIELD_NUMBER: _ClassVar[int]
    version: str
    path: str
    adapter_path: str
    def __init__(self, version: _Optional[str] = ..., path: _Optional[str] = ..., adapter_path: _Optional[str] = ...) -> None: ...

class Accuracy(_message.Message):
    __slots__ = ("total", "execution", "test_suite", "by_hardness", "execution_low", "execution_high")
    class ByHardnessEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Accuracy
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Accuracy, _Mapping]] = ...) -> None: ...
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_FIELD_NUMBER: _ClassVar[int]
    BY_HARDNESS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_LOW_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_HIGH_FIELD_NUMBER: _ClassVar[int]
    total: int
    execution: float
    test_suite: float
    by_hardness: _containers.MessageMap[str, Accuracy]
    execution_low: float
    execution_high: float
    def __init__(self, total: _Optional[int] = ..., execution: _Optional[float] = ..., test_suite: _Optional[float] = ..., by_hardness: _Optional[_Mapping[str, Accuracy]] = ..., execution_low: _Optional[float] = ..., execution_high: _Optional[float] = ...) -> None: ...
