"""A source's schema by SQLAlchemy reflection: tables, columns and their types, primary and foreign
keys, comments - and which tables this role cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from shared.sources.connection import SourceError, SourceRef, reason_of


@dataclass(frozen=True)
class SourceColumn:
    name: str
    type: Any  # the reflected SQLAlchemy type
    nullable: bool = True
    comment: str = ""


@dataclass(frozen=True)
class SourceForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[SourceColumn, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[SourceForeignKey, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class SourceSchema:
    tables: tuple[SourceTable, ...]
    unreadable: dict[str, str] = field(default_factory=dict)  # table -> why this role cannot read it

    def table(self, name: str) -> SourceTable:
        return next(t for t in self.tables if t.name == name)


def reflect(engine: sa.Engine, ref: SourceRef) -> SourceSchema:
    """Every table of the source's schema; tables whose rows this role cannot SELECT are left out
    (with the reason), as are foreign keys to tables outside the schema or left out."""
    schema = ref.schema or None
    if engine.dialect.name == "duckdb":
        return _complete(_reflect_duckdb(engine, ref), ref)
    try:
        inspector = sa.inspect(engine)
        names = sorted(inspector.get_table_names(schema=schema))
        tables, unreadable = [], {}
        for name in names:
            reason = _unreadable(engine, name, schema)
            if reason:
                unreadable[name] = reason
                continue
            comment = _table_comment(inspector, name, schema)
            columns = tuple(
                SourceColumn(c["name"], c["type"], bool(c.get("nullable", True)), c.get("comment") or "")
                for c in inspector.get_columns(name, schema=schema)
            )
            primary = tuple(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
            foreign = tuple(
                SourceForeignKey(
                    tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"])
                )
                for fk in inspector.get_foreign_keys(name, schema=schema)
                if fk.get("referred_table") and (fk.get("referred_schema") or schema) == schema
            )
            tables.append(SourceTable(name, columns, primary, foreign, comment))
    except sa.exc.DBAPIError as exc:
        raise SourceError(f"cannot read the schema of source {ref.name}: {reason_of(exc)}") from None
    return _complete(SourceSchema(tuple(tables), unreadable), ref)


def _sqlite_cannot_hold(table: SourceTable, taken: set[str]) -> str:
    """Why a SQLite snapshot cannot hold this table as it is named ("" when it can): SQLite's names
    ignore case, a table needs a column, and names starting sqlite_ are its own."""
    if not table.columns:
        return "no columns (a SQLite table needs one)"
    if table.name.lower().startswith("sqlite_"):
        return "SQLite keeps names starting sqlite_ for itself"
    if table.name.lower() in taken:
        return "its name differs only in case from another table's (SQLite's names ignore case)"
    seen: dict[str, str] = {}
    for column in table.columns:
        if column.name.lower() in seen:
            return (
                f"columns {seen[column.name.lower()]!r} and {column.name!r} differ only in case "
                "(SQLite's names ignore case)"
            )
        seen[column.name.lower()] = column.name
    return ""


def _complete(found: SourceSchema, ref: SourceRef) -> SourceSchema:
    """The tables a SQLite snapshot can hold (the rest left out, with why: one awkward name does not
    fail the whole snapshot), foreign keys only between them; SourceError when it holds none."""
    unreadable, holdable, taken = dict(found.unreadable), [], set()
    for t in found.tables:
        if why := _sqlite_cannot_hold(t, taken):
            unreadable[t.name] = why
        else:
            holdable.append(t)
            taken.add(t.name.lower())
    tables = holdable
    kept = {t.name for t in tables}
    tables = [
        SourceTable(
            t.name,
            t.columns,
            t.primary_key,
            tuple(fk for fk in t.foreign_keys if fk.ref_table in kept),
            t.comment,
        )
        for t in tables
    ]
    if not tables:
        raise SourceError(f"source {ref.name} has no table this role can read" + _listed(unreadable))
    return SourceSchema(tuple(tables), unreadable)


def _reflect_duckdb(engine: sa.Engine, ref: SourceRef) -> SourceSchema:
    """DuckDB from its own catalogue functions (duckdb-engine's reflection queries PostgreSQL's
    catalogue, which DuckDB does not fully have); column types as DuckDB names them."""
    schema = ref.schema or "main"
    params = {"schema": schema}
    try:
        with engine.connect() as connection:
            names = connection.execute(
                sa.text(
                    "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = :schema ORDER BY 1"
                ),
                params,
            ).all()
            columns = connection.execute(
                sa.text(
                    "SELECT table_name, column_name, data_type, is_nullable, comment FROM duckdb_columns() "
                    "WHERE schema_name = :schema ORDER BY table_name, column_index"
                ),
                params,
            ).all()
            constraints = connection.execute(
                sa.text(
                    "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
                    "referenced_column_names FROM duckdb_constraints() WHERE schema_name = :schema "
                    "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
                ),
                params,
            ).all()
    except sa.exc.DBAPIError as exc:
        raise SourceError(f"cannot read the schema of source {ref.name}: {reason_of(exc)}") from None
    tables, unreadable = [], {}
    for name, comment in names:
        reason = _unreadable(engine, name, ref.schema or None)
        if reason:
            unreadable[name] = reason
            continue
        cols = tuple(SourceColumn(c, t, bool(n), m or "") for tn, c, t, n, m in columns if tn == name)
        primary = next(
            (tuple(cc) for tn, kind, cc, _, _ in constraints if tn == name and kind == "PRIMARY KEY"), ()
        )
        foreign = tuple(
            SourceForeignKey(tuple(cc), rt, tuple(rc))
            for tn, kind, cc, rt, rc in constraints
            if tn == name and kind == "FOREIGN KEY"
        )
        tables.append(SourceTable(name, cols, primary, foreign, comment or ""))
    return SourceSchema(tuple(tables), unreadable)


def _listed(unreadable: dict[str, str]) -> str:
    return "".join(f"; {name}: {why}" for name, why in sorted(unreadable.items())[:5])


def _table_comment(inspector: Any, name: str, schema: str | None) -> str:
    try:
        return inspector.get_table_comment(name, schema=schema).get("text") or ""
    except NotImplementedError:  # SQLite keeps no comments
        return ""


def _unreadable(engine: sa.Engine, name: str, schema: str | None) -> str:
    """Why this role cannot read the table's rows ("" when it can): a probe in its own transaction,
    so a refusal does not spoil the snapshot's."""
    table = sa.table(name, schema=schema)
    try:
        with engine.connect() as connection:
            connection.execute(sa.select(sa.literal(1)).select_from(table).limit(0)).all()
    except sa.exc.DBAPIError as exc:
        return reason_of(exc)
    return ""
