"""What generation is asked and answers, and the checks every request passes: the values the
Generator (logic.py) takes and returns, free of gRPC, and the service's limits on them."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import defaults
from shared.answering import QuestionIn
from shared.errors import InvalidArgument
from shared.limits import (
    CONSTRAIN_MODES,
    MAX_EXAMPLE_SETS,
    MAX_FEW_SHOT_K,
    MAX_NEW_TOKENS,
    MAX_QUESTION_CHARS,
    MAX_REVIEW_SQL,
    MAX_SQL_CHARS,
    MAX_TEMPERATURE,
)
from shared.limits import MAX_SAMPLES as MAX_N
from shared.prompts import Repair
from shared.sampling import Sampling


@dataclass(frozen=True)
class Pair:
    db_id: str
    question: str
    sql: str
    hardness: str
    model_version: str
    constrain: str  # the grammar strength it was written under


@dataclass
class SqlResult:
    question_id: str
    sql: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    constrain: str = ""  # the grammar strength its SQL was written under (set by generate_sql)


def checked_sampling(sampling: Sampling) -> Sampling:
    """The request's sampling within the service's limits, normalised."""
    if not 0 <= sampling.temperature <= MAX_TEMPERATURE:
        raise InvalidArgument(
            f"temperature must be within [0, {MAX_TEMPERATURE:g}], got {sampling.temperature}"
        )
    if not 0 <= sampling.top_p <= 1:
        raise InvalidArgument(f"top_p must be within [0, 1], got {sampling.top_p}")
    if not 0 <= sampling.max_new_tokens <= MAX_NEW_TOKENS:
        raise InvalidArgument(
            f"max_new_tokens must be within [0, {MAX_NEW_TOKENS}], got {sampling.max_new_tokens}"
        )
    return sampling.normalised()


def check_n(n: int, limit: int = MAX_N) -> None:
    if n <= 0:
        raise InvalidArgument(f"n must be positive, got {n}")
    if n > limit:
        raise InvalidArgument(f"n must be at most {limit}, got {n}")


def resolve_k(default_k: int, k: int | None) -> int:
    """None = the service default; 0 = no examples (how a fine-tuned version is asked)."""
    if k is None:
        return default_k
    if k < 0 or k > MAX_FEW_SHOT_K:
        raise InvalidArgument(f"few_shot_k must be within [0, {MAX_FEW_SHOT_K}], got {k}")
    return k


def resolve_example_sets(sets: int | None) -> int:
    """None or 0 = the default (one set: every sample shows the database's examples)."""
    if not sets:
        return defaults.EXAMPLE_SETS
    if sets < 0 or sets > MAX_EXAMPLE_SETS:
        raise InvalidArgument(f"example_sets must be within [1, {MAX_EXAMPLE_SETS}], got {sets}")
    return sets


def check_constrain(mode: str) -> str:
    if mode not in CONSTRAIN_MODES:
        raise InvalidArgument(f"constrain must be one of {', '.join(CONSTRAIN_MODES)}, got {mode!r}")
    return mode


def repair_of(question: QuestionIn) -> Repair | None:
    """The repair a question asks for (None: a plain question), checked: failing SQL needs its error."""
    if not question.failed_sql and not question.error:
        return None
    if not question.failed_sql.strip() or not question.error.strip():
        raise InvalidArgument(f"question {question.id or '?'}: a repair needs both failed_sql and error")
    if len(question.failed_sql) > MAX_SQL_CHARS:
        raise InvalidArgument(
            f"question {question.id or '?'}: failed_sql is longer than {MAX_SQL_CHARS} characters"
        )
    return Repair(question.failed_sql, question.error)


def check_review(question: str, sqls: list[str]) -> None:
    """A review's question and SQL within the service's limits."""
    if not question.strip():
        raise InvalidArgument("question is required")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidArgument(f"question is longer than {MAX_QUESTION_CHARS} characters")
    if not 1 <= len(sqls) <= MAX_REVIEW_SQL:
        raise InvalidArgument(f"a review takes 1 to {MAX_REVIEW_SQL} SQL, got {len(sqls)}")
    for index, sql in enumerate(sqls):
        if not sql.strip():
            raise InvalidArgument(f"sql {index} is empty")
        if len(sql) > MAX_SQL_CHARS:
            raise InvalidArgument(f"sql {index} is longer than {MAX_SQL_CHARS} characters")
