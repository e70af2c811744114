"""A SQLite database's schema as prompts and checks read it: tables, columns with types and sample
values, keys and foreign keys, and row counts, introspected from the file itself (read-only,
immutable); comments from a snapshot's manifest when there is one."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shown_name(name: str) -> str:
    """A name as a prompt shows it: quoted when SQL could not use it bare (a space, a hyphen, a
    parenthesis, a leading digit: BIRD's `Free Meal Count (K-12)`), so the model copies a name that
    runs; plain names stay bare, as every prompt so far showed them."""
    return name if PLAIN_NAME.fullmatch(name) else quote_identifier(name)


def open_readonly(path: Path | str) -> sqlite3.Connection:
    """Open a SQLite file read-only and immutable: no writes, no journal, no locks taken."""
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    primary_key: bool = False
    not_null: bool = False
    sample_values: tuple[str, ...] = ()
    comment: str = ""  # a source database's column comment (from a snapshot's manifest)


@dataclass(frozen=True)
class ForeignKeyInfo:
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    row_count: int = 0
    comment: str = ""  # a source database's table comment

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)


@dataclass(frozen=True)
class DatabaseSchema:
    db_id: str
    path: Path
    tables: tuple[TableInfo, ...]

    def table(self, name: str) -> TableInfo:
        for table in self.tables:
            if table.name.lower() == name.lower():
                return table
        raise KeyError(name)

    def schema_text(self, sample_values: int = 3) -> str:
        """CREATE TABLE text with keys and a few sample values per column: what a prompt shows."""
        return "\n\n".join(_create_table_text(t, sample_values) for t in self.tables)


def _literal(value: str) -> str:
    return value if _is_number(value) else "'" + value.replace("'", "''") + "'"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _create_table_text(table: TableInfo, sample_values: int) -> str:
    single_pk = len(table.primary_key) == 1
    fks = {fk.column.lower(): fk for fk in table.foreign_keys}
    lines = []
    for column in table.columns:
        line = f"  {shown_name(column.name)} {column.type or 'TEXT'}".rstrip()
        if column.primary_key and single_pk:
            line += " PRIMARY KEY"
        if column.name.lower() in fks:
            fk = fks[column.name.lower()]
            line += f" REFERENCES {shown_name(fk.ref_table)}({shown_name(fk.ref_column)})"
        samples = ", ".join(_literal(v) for v in column.sample_values[:sample_values])
        note = "; ".join(part for part in (column.comment, f"e.g. {samples}" if samples else "") if part)
        lines.append((line, note))
    if not single_pk and table.primary_key:
        lines.append((f"  PRIMARY KEY ({', '.join(map(shown_name, table.primary_key))})", ""))
    body = []
    for i, (line, note) in enumerate(lines):
        comma = "," if i < len(lines) - 1 else ""
        body.append(f"{line}{comma}" + (f" -- {note}" if note else ""))
    head = f"-- {table.comment}\n" if table.comment else ""
    return f"{head}CREATE TABLE {shown_name(table.name)} (\n" + "\n".join(body) + "\n);"


def introspect(path: Path, db_id: str | None = None, samples_per_column: int = 3) -> DatabaseSchema:
    """Read tables, columns, keys, row counts and sample values from the SQLite file itself; a
    snapshot of a source database adds the source's comments from its manifest."""
    comments = _snapshot_tables(Path(path))
    connection = open_readonly(path)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
            )
        ]
        tables = []
        for name in names:
            q = quote_identifier(name)
            info = connection.execute(f"PRAGMA table_info({q})").fetchall()
            fks = connection.execute(f"PRAGMA foreign_key_list({q})").fetchall()
            pk_columns = {row[1] for row in info if row[5]}
            foreign_keys = []
            for fk in fks:  # (id, seq, table, from, to, on_update, on_delete, match)
                ref_column = fk[4]
                if ref_column is None:  # REFERENCES t without a column means t's primary key
                    ref_info = connection.execute(f"PRAGMA table_info({quote_identifier(fk[2])})").fetchall()
                    ref_column = next((r[1] for r in ref_info if r[5]), "rowid")
                foreign_keys.append(ForeignKeyInfo(fk[3], fk[2], ref_column))
            columns = []
            noted = comments.get(name, {})
            for _cid, column, ctype, notnull, _default, _pk in info:
                samples = _sample_values(connection, name, column, samples_per_column)
                columns.append(
                    ColumnInfo(
                        column,
                        ctype or "",
                        column in pk_columns,
                        bool(notnull),
                        samples,
                        noted.get("columns", {}).get(column, {}).get("comment", ""),
                    )
                )
            (count,) = connection.execute(f"SELECT count(*) FROM {q}").fetchone()
            tables.append(
                TableInfo(name, tuple(columns), tuple(foreign_keys), count, noted.get("comment", ""))
            )
    finally:
        connection.close()
    return DatabaseSchema(db_id or Path(path).stem, Path(path), tuple(tables))


def _snapshot_tables(path: Path) -> dict:
    """The tables of the snapshot manifest beside a database file (shared/sources/snapshot.py's
    snapshot.json), for their comments; {} for any other database."""
    manifest = path.with_name("snapshot.json")
    if not manifest.is_file():
        return {}
    try:
        return json.loads(manifest.read_text()).get("tables", {})
    except (OSError, ValueError):
        return {}


def _sample_values(connection: sqlite3.Connection, table: str, column: str, limit: int) -> tuple[str, ...]:
    if limit <= 0:
        return ()
    rows = connection.execute(
        f"SELECT DISTINCT {quote_identifier(column)} FROM {quote_identifier(table)} "
        f"WHERE {quote_identifier(column)} IS NOT NULL LIMIT ?",
        (limit,),
    ).fetchall()
    values = []
    for (value,) in rows:
        if isinstance(value, bytes):
            continue
        text = str(value)
        values.append(text if len(text) <= 40 else text[:37] + "...")
    return tuple(values)
