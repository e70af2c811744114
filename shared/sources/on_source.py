"""An answer run on the source itself (`ask --on-source`): the SQLite SQL the model wrote, transpiled
with sqlglot to the source's dialect, run in a read-only transaction with a statement timeout and a
row cap. Anything but one SELECT - several statements, DDL or DML anywhere inside, a function the
sandbox would not have (pg_sleep, dblink, ...) - is refused before it reaches the source."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from shared.sources.connection import SourceError, SourceRef, engine_for, reason_of

SOURCE_TIMEOUT_MS = 10_000  # one answer's deadline on the source
WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Into,
)
LOCKS = (exp.Lock,)  # SELECT ... FOR UPDATE / FOR SHARE: takes row locks on the source
FILE_READERS = (exp.ReadCSV, exp.ReadParquet)  # DuckDB reads files and URLs from SELECT
PATH_LIKE = re.compile(r"[/\\:]|\.(csv|tsv|parquet|json|jsonl|txt|gz|zst|xlsx?)$", re.IGNORECASE)


class Refused(SourceError):
    """The answer is not one read-only SELECT: it never reaches the source."""


@dataclass(frozen=True)
class SourceAnswer:
    sql: str  # as the source ran it
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the cap


def transpile(sql: str, dialect: str) -> str:
    """The SQLite answer in the source's dialect; Refused unless it is one SELECT that reads only."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="sqlite") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise Refused(f"the answer does not parse as SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise Refused(f"the answer holds {len(statements)} statements; only one SELECT runs on a source")
    (statement,) = statements
    if not isinstance(statement, exp.Query):
        raise Refused(f"only a SELECT runs on a source, not {statement.key.upper()}")
    for node in statement.walk():
        if isinstance(node, WRITES):
            raise Refused(f"the answer holds {node.key.upper()}: only reads run on a source")
        if isinstance(node, LOCKS):
            raise Refused("the answer locks rows (FOR UPDATE / FOR SHARE): only plain reads run on a source")
        if isinstance(node, exp.Anonymous):  # a function SQLite's sandbox does not know
            raise Refused(f"function {node.name}() does not run on a source")
        if isinstance(node, FILE_READERS):
            raise Refused(f"function {node.sql_name()}() reads files: it does not run on a source")
        if isinstance(node, exp.Table) and PATH_LIKE.search(node.name):
            raise Refused(f"{node.name!r} names a file, not a table: it does not run on a source")
    if dialect in STRICT_GROUPING:
        for select in list(statement.find_all(exp.Select)):
            _row_of_extreme(select)
            _aggregate_ungrouped(select)
    return statement.sql(dialect=dialect)


STRICT_GROUPING = ("postgres", "duckdb", "mysql")  # a grouped query may show only grouped columns


def _row_of_extreme(select: exp.Select) -> None:
    """SQLite's one MAX() or MIN() beside bare columns shows the columns of the row that holds it
    (`SELECT name, max(age) FROM singer`: the oldest singer's name), where MIN() of each column -
    what other engines are given below - would mix rows. Without GROUP BY that row is the first by
    the value (NULLs left out, as the aggregate leaves them): ORDER BY it LIMIT 1 (over no rows SQLite
    gives one row of NULLs and this none: compared as equal). Grouped, DISTINCT or with an OFFSET
    there is no portable form here: refused rather than answered wrong."""
    aggregates = [node for p in select.expressions for node in _aggregates(p)]
    if len(aggregates) != 1 or not isinstance(aggregates[0], exp.Max | exp.Min):
        return
    if not any(list(_bare_columns(p)) for p in select.expressions):
        return
    grouped = select.args.get("group") or select.args.get("having") or select.args.get("distinct")
    if grouped or select.args.get("offset"):
        raise Refused(
            "SQLite shows the row holding the one MAX()/MIN() beside other columns; grouped, DISTINCT "
            "or with OFFSET that has no portable form here: not run on the source"
        )
    (extreme,) = aggregates
    value = extreme.this
    if isinstance(value, exp.Distinct):  # MAX(DISTINCT x) is MAX(x)
        value = value.expressions[0]
    extreme.replace(value.copy())
    select.where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())), copy=False)
    select.set(
        "order", exp.Order(expressions=[exp.Ordered(this=value.copy(), desc=isinstance(extreme, exp.Max))])
    )
    select.set("limit", exp.Limit(expression=exp.Literal.number(1)))


def _aggregates(node: exp.Expression):
    """The aggregates of this SELECT's expression (not of a subquery, not window functions)."""
    if isinstance(node, exp.Window | exp.Subquery | exp.Select):
        return
    if isinstance(node, exp.AggFunc):
        yield node
        return
    for child in node.iter_expressions():
        yield from _aggregates(child)


def _aggregate_ungrouped(select: exp.Select) -> None:
    """SQLite lets a grouped query show a column it does not group by (Spider's `GROUP BY T1.id`
    with `SELECT T2.name`): it shows that column's value from some row of the group - the one value
    when the column depends on the group. PostgreSQL, DuckDB and MySQL refuse it; MIN() of the
    column is that one value, and a value of the group otherwise, as SQLite's is."""
    group = select.args.get("group")
    projections = select.expressions
    if group is None:  # an aggregate without GROUP BY is one group: the same rule for its columns
        if not any(any(_aggregates(p)) for p in projections):
            return
        group_expressions: list[exp.Expression] = []
    else:
        group_expressions = list(group.expressions)
    grouped = {e.sql() for e in group_expressions}
    for e in group_expressions:  # GROUP BY 1, or by a projection's alias: that projection is grouped
        if isinstance(e, exp.Literal) and e.is_int and 0 < int(e.this) <= len(projections):
            grouped.add(projections[int(e.this) - 1].sql())
        elif isinstance(e, exp.Column) and not e.table:
            grouped |= {
                p.sql() for p in projections if p.alias_or_name == e.name and isinstance(p, exp.Alias)
            }
    aliases = {p.alias: p.this for p in projections if isinstance(p, exp.Alias)}
    if select.args.get("having"):  # PostgreSQL knows no projection alias in HAVING: its expression
        for column in list(_bare_columns(select.args["having"])):
            if not column.table and column.name in aliases:
                column.replace(aliases[column.name].copy())
    parts = [*projections, *(select.args["order"].expressions if select.args.get("order") else [])]
    if select.args.get("having"):
        parts.append(select.args["having"])
    for part in parts:
        target = part.this if isinstance(part, exp.Alias | exp.Ordered) else part
        if target.sql() in grouped or part.sql() in grouped:
            continue
        for column in list(_bare_columns(target)):
            if column.sql() not in grouped and not (not column.table and column.name in aliases):
                column.replace(exp.Min(this=column.copy()))


def _bare_columns(node: exp.Expression):
    """Columns of this SELECT's expression that no aggregate, window or subquery encloses."""
    if isinstance(node, exp.AggFunc | exp.Window | exp.Subquery | exp.Select):
        return
    if isinstance(node, exp.Column):
        yield node
        return
    for child in node.iter_expressions():
        yield from _bare_columns(child)


def run_on_source(
    ref: SourceRef,
    sqlite_sql: str,
    max_rows: int,
    timeout_ms: int = SOURCE_TIMEOUT_MS,
    engine: sa.Engine | None = None,
) -> SourceAnswer:
    """The answer's rows from the source itself (at most max_rows); SourceError saying why not."""
    sql = transpile(sqlite_sql, ref.dialect)
    own = engine is None
    engine = engine or engine_for(ref)
    try:
        with engine.connect() as connection:
            connection = _read_only(connection, engine.dialect.name, timeout_ms)
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                    connection.exec_driver_sql("SET LOCAL standard_conforming_strings = on")  # '\\' as text
                elif engine.dialect.name == "mysql":  # SQLAlchemy has no read-only option for MySQL
                    connection.exec_driver_sql("SET TRANSACTION READ ONLY")  # before anything reads
                    connection.exec_driver_sql(f"SET SESSION MAX_EXECUTION_TIME = {int(timeout_ms)}")
                # psycopg and PyMySQL read % as a parameter marker even with no parameters
                sent = sql.replace("%", "%%") if engine.dialect.paramstyle in ("format", "pyformat") else sql
                with _deadline(connection, engine.dialect.name, timeout_ms):
                    # streamed (a server-side cursor): no more than the cap's rows reach this process
                    result = connection.execution_options(stream_results=True).exec_driver_sql(sent)
                    columns = list(result.keys())
                    rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
                    result.close()
    except sa.exc.DBAPIError as exc:
        reason = reason_of(exc)
        raise SourceError(f"the source refused or failed the answer: {reason}") from None
    finally:
        if own:
            engine.dispose()
    return SourceAnswer(sql, columns, rows[:max_rows], len(rows) > max_rows)


def _read_only(connection: sa.Connection, dialect: str, timeout_ms: int) -> sa.Connection:
    if dialect == "postgresql":
        return connection.execution_options(postgresql_readonly=True)
    return connection  # MySQL: read-only by its transaction's first statement (run_on_source)  # DuckDB is opened read-only; SQLite sources are files we only SELECT from


class _deadline:
    """DuckDB and SQLite have no statement timeout: the query is interrupted from a timer instead."""

    def __init__(self, connection: sa.Connection, dialect: str, timeout_ms: int) -> None:
        self.timer: threading.Timer | None = None
        if dialect in ("duckdb", "sqlite"):
            raw = connection.connection.dbapi_connection
            self.timer = threading.Timer(timeout_ms / 1000, lambda: raw.interrupt())

    def __enter__(self) -> None:
        if self.timer:
            self.timer.start()

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            self.timer.cancel()


def not_compared(ran_on_snapshot: bool, snapshot_truncated: bool, source_truncated: bool) -> str:
    """Why an answer's rows on the snapshot and on the source cannot be compared ("" when they can):
    "they match" must mean both sides were read whole."""
    if not ran_on_snapshot:
        return "the answer did not run on the snapshot"
    if snapshot_truncated or source_truncated:
        return "a row cap cut one side, so which rows made it may differ"
    return ""
