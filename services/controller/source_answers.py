"""`ask --on-source`: the answer run once more, on the registered source database itself, beside
the sandbox's run on its snapshot - and whether the two give the same rows."""

from __future__ import annotations

from collections import Counter

from shared.errors import FailedPrecondition
from shared.pb import controller_pb2, critic_pb2
from shared.pbconvert import from_result_set, to_result_set
from shared.sources.connection import SourceError, SourceRef
from shared.sources.on_source import Refused, not_compared, run_on_source
from shared.sources.types import comparable_row
from shared.store import Source, Store


def source_of(store: Store, db_id: str) -> SourceRef:
    """The source behind a database, or FAILED_PRECONDITION saying how to register one."""
    with store.session() as s:
        row = s.get(Source, db_id)
        if row is None:
            raise FailedPrecondition(
                f"database {db_id!r} is not a registered source: --on-source needs one (`sqldistill db add`)"
            )
        return SourceRef(row.name, row.url, row.password_env, row.password_file, row.source_schema)


def answer_on_source(ref: SourceRef, answer: controller_pb2.Answer, max_rows: int) -> None:
    """Fill the answer's source fields; a refusal or failure is the answer's source_error."""
    if not answer.sql:
        answer.source_error = "the model wrote no SQL to run on the source"
        return
    try:
        ran = run_on_source(ref, answer.sql, max_rows)
    except Refused as exc:
        answer.source_error = f"refused before it reached the source: {exc}"
        return
    except SourceError as exc:
        answer.source_error = str(exc)
        return
    answer.source_sql = ran.sql
    answer.source_result.CopyFrom(to_result_set(ran.columns, ran.rows, ran.truncated))
    ran_ok = answer.status == critic_pb2.EXECUTION_STATUS_OK
    if not_compared(ran_ok, answer.result.truncated, ran.truncated):  # (the CLI says why)
        answer.source_differs = False
        return
    sandbox = _compared(from_result_set(answer.result))
    answer.source_differs = sandbox != _compared(ran.rows)


def _compared(rows: list) -> Counter:
    """Rows as compared: one row of NULLs is no rows (SQLite's aggregate over nothing, which a
    source answers with none once its MAX() beside columns became ORDER BY ... LIMIT 1)."""
    if len(rows) == 1 and all(value is None for value in rows[0]):
        rows = []
    return Counter(comparable_row(tuple(row)) for row in rows)
