from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecutionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_STATUS_UNSPECIFIED: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_OK: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_ERROR: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_DENIED: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_TIMEOUT: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_RESOURCE_EXHAUSTED: _ClassVar[ExecutionStatus]
EXECUTION_STATUS_UNSPECIFIED: ExecutionStatus
EXECUTION_STATUS_OK: ExecutionStatus
EXECUTION_STATUS_ERROR: ExecutionStatus
EXECUTION_STATUS_DENIED: ExecutionStatus
EXECUTION_STATUS_TIMEOUT: ExecutionStatus
EXECUTION_STATUS_RESOURCE_EXHAUSTED: ExecutionStatus

class ExecuteRequest(_message.Message):
    __slots__ = ("db_id", "sql", "timeout_ms", "max_rows")
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    db_id: str
    sql: str
    timeout_ms: int
    max_rows: int
    def __init__(self, db_id: _Optional[str] = ..., sql: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., max_rows: _Optional[int] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("status", "error", "result", "elapsed_ms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    status: ExecutionStatus
    error: str
    result: _common_pb2.ResultSet
    elapsed_ms: float
    def __init__(self, status: _Optional[_Union[ExecutionStatus, str]] = ..., error: _Optional[str] = ..., result: _Optional[_Union[_common_pb2.ResultSet, _Mapping]] = ..., elapsed_ms: _Optional[float] = ...) -> None: ...

class JudgeOptions(_message.Message):
    __slots__ = ("test_suite", "vote_without_gold", "majority_share", "dedupe", "majority_min_votes")
    TEST_SUITE_FIELD_NUMBER: _ClassVar[int]
    VOTE_WITHOUT_GOLD_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_SHARE_FIELD_NUMBER: _ClassVar[int]
    DEDUPE_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_MIN_VOTES_FIELD_NUMBER: _ClassVar[int]
    test_suite: bool
    vote_without_gold: bool
    majority_share: float
    dedupe: bool
    majority_min_votes: int
    def __init__(self, test_suite: _Optional[bool] = ..., vote_without_gold: _Optional[bool] = ..., majority_share: _Optional[float] = ..., dedupe: _Optional[bool] = ..., majority_min_votes: _Optional[int] = ...) -> None: ...

class JudgeRequest(_message.Message):
    __slots__ = ("options", "candidates")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    options: JudgeOptions
    candidates: _containers.RepeatedCompositeFieldContainer[_common_pb2.Candidate]
    def __init__(self, options: _Optional[_Union[JudgeOptions, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[_common_pb2.Candidate, _Mapping]]] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("candidate_id", "kept", "reasons", "parses", "executes", "status", "error", "canonical_sql", "hardness", "has_gold", "execution_match", "test_suite_match", "consistency", "result_rows")
    CANDIDATE_ID_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    PARSES_FIELD_NUMBER: _ClassVar[int]
    EXECUTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_SQL_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    HAS_GOLD_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MATCH_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_MATCH_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    RESULT_ROWS_FIELD_NUMBER: _ClassVar[int]
    candidate_id: str
    kept: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    parses: bool
    executes: bool
    status: ExecutionStatus
    error: str
    canonical_sql: str
    hardness: str
    has_gold: bool
    execution_match: bool
    test_suite_match: bool
    consistency: float
    result_rows: int
    def __init__(self, candidate_id: _Optional[str] = ..., kept: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ..., parses: _Optional[bool] = ..., executes: _Optional[bool] = ..., status: _Optional[_Union[ExecutionStatus, str]] = ..., error: _Optional[str] = ..., canonical_sql: _Optional[str] = ..., hardness: _Optional[str] = ..., has_gold: _Optional[bool] = ..., execution_match: _Optional[bool] = ..., test_suite_match: _Optional[bool] = ..., consistency: _Optional[float] = ..., result_rows: _Optional[int] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("id", "db_id", "question", "gold_sql", "predicted_sql")
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    GOLD_SQL_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_SQL_FIELD_NUMBER: _ClassVar[int]
    id: str
    db_id: str
    question: str
    gold_sql: str
    predicted_sql: str
    def __init__(self, id: _Optional[str] = ..., db_id: _Optional[str] = ..., question: _Optional[str] = ..., gold_sql: _Optional[str] = ..., predicted_sql: _Optional[str] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("predictions", "test_suite")
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_FIELD_NUMBER: _ClassVar[int]
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    test_suite: bool
    def __init__(self, predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., test_suite: _Optional[bool] = ...) -> None: ...

class QueryReport(_message.Message):
    __slots__ = ("id", "db_id", "hardness", "execution_match", "test_suite_match", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    HARDNESS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MATCH_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_MATCH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    db_id: str
    hardness: str
    execution_match: bool
    test_suite_match: bool
    error: str
    def __init__(self, id: _Optional[str] = ..., db_id: _Optional[str] = ..., hardness: _Optional[str] = ..., execution_match: _Optional[bool] = ..., test_suite_match: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("accuracy", "queries")
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    accuracy: _common_pb2.Accuracy
    queries: _containers.RepeatedCompositeFieldContainer[QueryReport]
    def __init__(self, accuracy: _Optional[_Union[_common_pb2.Accuracy, _Mapping]] = ..., queries: _Optional[_Iterable[_Union[QueryReport, _Mapping]]] = ...) -> None: ...

class VoteItem(_message.Message):
    __slots__ = ("id", "db_id", "sql", "preferred")
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_FIELD_NUMBER: _ClassVar[int]
    id: str
    db_id: str
    sql: _containers.RepeatedScalarFieldContainer[str]
    preferred: int
    def __init__(self, id: _Optional[str] = ..., db_id: _Optional[str] = ..., sql: _Optional[_Iterable[str]] = ..., preferred: _Optional[int] = ...) -> None: ...

class VoteRequest(_message.Message):
    __slots__ = ("items", "test_suite", "interactive")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TEST_SUITE_FIELD_NUMBER: _ClassVar[int]
    INTERACTIVE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[VoteItem]
    test_suite: bool
    interactive: bool
    def __init__(self, items: _Optional[_Iterable[_Union[VoteItem, _Mapping]]] = ..., test_suite: _Optional[bool] = ..., interactive: _Optional[bool] = ...) -> None: ...

class VoteOutcome(_message.Message):
    __slots__ = ("id", "winner_index", "winner_sql", "agreement_votes", "executable", "agreement", "group_sizes", "winner_empty", "errors")
    ID_FIELD_NUMBER: _ClassVar[int]
    WINNER_INDEX_FIELD_NUMBER: _ClassVar[int]
    WINNER_SQL_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_VOTES_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    GROUP_SIZES_FIELD_NUMBER: _ClassVar[int]
    WINNER_EMPTY_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    id: str
    winner_index: int
    winner_sql: str
    agreement_votes: int
    executable: int
    agreement: float
    group_sizes: _containers.RepeatedScalarFieldContainer[int]
    winner_empty: bool
    errors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., winner_index: _Optional[int] = ..., winner_sql: _Optional[str] = ..., agreement_votes: _Optional[int] = ..., executable: _Optional[int] = ..., agreement: _Optional[float] = ..., group_sizes: _Optional[_Iterable[int]] = ..., winner_empty: _Optional[bool] = ..., errors: _Optional[_Iterable[str]] = ...) -> None: ...

class VoteResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[VoteOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[VoteOutcome, _Mapping]]] = ...) -> None: ...

class DescribeDatabasesRequest(_message.Message):
    __slots__ = ("db_ids",)
    DB_IDS_FIELD_NUMBER: _ClassVar[int]
    db_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, db_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "type", "primary_key", "sample_values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    primary_key: bool
    sample_values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., primary_key: _Optional[bool] = ..., sample_values: _Optional[_Iterable[str]] = ...) -> None: ...

class ForeignKey(_message.Message):
    __slots__ = ("column", "ref_table", "ref_column")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    REF_TABLE_FIELD_NUMBER: _ClassVar[int]
    REF_COLUMN_FIELD_NUMBER: _ClassVar[int]
    column: str
    ref_table: str
    ref_column: str
    def __init__(self, column: _Optional[str] = ..., ref_table: _Optional[str] = ..., ref_column: _Optional[str] = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("name", "columns", "foreign_keys", "row_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FOREIGN_KEYS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    foreign_keys: _containers.RepeatedCompositeFieldContainer[ForeignKey]
    row_count: int
    def __init__(self, name: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., foreign_keys: _Optional[_Iterable[_Union[ForeignKey, _Mapping]]] = ..., row_count: _Optional[int] = ...) -> None: ...

class DatabaseInfo(_message.Message):
    __slots__ = ("db_id", "tables", "schema_text")
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_TEXT_FIELD_NUMBER: _ClassVar[int]
    db_id: str
    tables: _containers.RepeatedCompositeFieldContainer[Table]
    schema_text: str
    def __init__(self, db_id: _Optional[str] = ..., tables: _Optional[_Iterable[_Union[Table, _Mapping]]] = ..., schema_text: _Optional[str] = ...) -> None: ...

class DescribeDatabasesResponse(_message.Message):
    __slots__ = ("databases",)
    DATABASES_FIELD_NUMBER: _ClassVar[int]
    databases: _containers.RepeatedCompositeFieldContainer[DatabaseInfo]
    def __init__(self, databases: _Optional[_Iterable[_Union[DatabaseInfo, _Mapping]]] = ...) -> None: ...
