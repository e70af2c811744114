"""A source's snapshot: its readable tables copied into `database/<name>/<name>.sqlite` of the dataset
folder the critic serves, in one consistent read-only transaction on the source, streamed in batches.
With a cap per table (`snapshot_rows`), each table's first rows by primary key are copied and then
every parent row a copied row references, until nothing references a missing row. The file is
written beside the old one and swapped in whole, so a failed refresh leaves the last snapshot
serving; a manifest (snapshot.json) says what was copied of what and what was approximated."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shared.schema import quote_identifier as q
from shared.sources.connection import SourceError, SourceRef, engine_for, reason_of
from shared.sources.reflection import SourceSchema, SourceTable, reflect
from shared.sources.types import Mapped, map_type

MANIFEST = "snapshot.json"
BATCH_ROWS = 2_000  # rows fetched and written at a time
PARENT_CHUNK = 200  # parent keys looked up per query
Key = tuple[Any, ...]


def snapshot_path(dataset: Path, name: str) -> Path:
    return dataset / "database" / name / f"{name}.sqlite"


def take_snapshot(ref: SourceRef, dataset: Path, snapshot_rows: int) -> dict[str, Any]:
    """Snapshot the source into the dataset folder; its manifest. SourceError when it cannot."""
    final = snapshot_path(dataset, ref.name)
    engine = engine_for(ref)  # before any file: a source that cannot be reached leaves nothing behind
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".partial")
    os.close(handle)  # its own name: two refreshes at once never write the same file
    partial = Path(name)
    try:
        schema = reflect(engine, ref)
        out = sqlite3.connect(partial)
        try:
            copier = _Copier(schema, ref.schema or None, out, snapshot_rows)
            copier.create_tables()
            with engine.connect() as connection:
                connection = _read_only(connection, engine.dialect.name)
                with connection.begin():  # one transaction: the source as of one moment
                    if engine.dialect.name == "mysql":  # SQLAlchemy has no read-only option for it
                        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                    copier.copy(connection)
            out.commit()
            copied = {
                t.name: out.execute(f"SELECT count(*) FROM {q(t.name)}").fetchone()[0] for t in schema.tables
            }
        finally:
            out.close()
        manifest = _manifest(ref, schema, copier, copied, snapshot_rows)
        manifest_path = final.with_name(MANIFEST)
        partial_manifest = partial.with_suffix(".json")
        partial_manifest.write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(partial, final)
        os.replace(partial_manifest, manifest_path)
        return manifest
    except SourceError:
        raise
    except (sqlite3.Error, OSError, ValueError, OverflowError) as exc:  # the copy, not the source
        raise SourceError(f"snapshot of source {ref.name} failed: {type(exc).__name__}: {exc}") from None
    except sa.exc.DBAPIError as exc:
        reason = reason_of(exc)
        raise SourceError(f"snapshot of source {ref.name} failed: {reason}") from None
    finally:
        partial.unlink(missing_ok=True)
        partial.with_suffix(".json").unlink(missing_ok=True)
        engine.dispose()


def _read_only(connection: sa.Connection, dialect: str) -> sa.Connection:
    """A repeatable-read, read-only transaction where the engine has one (PostgreSQL, MySQL); DuckDB
    and SQLite read one snapshot per transaction anyway (and DuckDB is opened read-only)."""
    if dialect == "postgresql":
        return connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    if dialect == "mysql":  # read-only: set as the transaction's first statement (see copy below)
        return connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


class _Copier:
    def __init__(
        self, schema: SourceSchema, source_schema: str | None, out: sqlite3.Connection, cap: int
    ) -> None:
        self.schema, self.source_schema, self.out, self.cap = schema, source_schema, out, cap
        self.mapped = {t.name: [map_type(c.type) for c in t.columns] for t in schema.tables}
        # Column sets other tables reference, per table: the keys a parent lookup needs.
        self.referenced: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for t in schema.tables:
            for fk in t.foreign_keys:
                self.referenced[fk.ref_table].add(fk.ref_columns)
        self.present: dict[str, dict[tuple[str, ...], set[Key]]] = defaultdict(lambda: defaultdict(set))
        self.needed: dict[str, dict[tuple[str, ...], set[Key]]] = defaultdict(lambda: defaultdict(set))
        self.rows_present: dict[str, int] = {}
        self.parents_added: dict[str, int] = defaultdict(int)

    def create_tables(self) -> None:
        for t in self.schema.tables:
            parts = [f"{q(c.name)} {m.sqlite}" for c, m in zip(t.columns, self.mapped[t.name], strict=True)]
            if t.primary_key:
                parts.append(f"PRIMARY KEY ({', '.join(q(c) for c in t.primary_key)})")
            for fk in t.foreign_keys:
                parts.append(
                    f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) "
                    f"REFERENCES {q(fk.ref_table)} ({', '.join(q(c) for c in fk.ref_columns)})"
                )
            self.out.execute(f"CREATE TABLE {q(t.name)} (\n  " + ",\n  ".join(parts) + "\n)")

    def copy(self, connection: sa.Connection) -> None:
        for t in self.schema.tables:
            table = self._table(t)
            self.rows_present[t.name] = connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            query = sa.select(*table.columns)
            if t.primary_key:
                query = query.order_by(*(table.c[c] for c in t.primary_key))
            if self.cap:
                query = query.limit(self.cap)
            result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(query)
            for rows in result.partitions(BATCH_ROWS):
                self._write(t, rows)
        if self.cap:
            self._add_parents(connection)

    def _table(self, t: SourceTable) -> sa.TableClause:
        return sa.table(t.name, *(sa.column(c.name) for c in t.columns), schema=self.source_schema)

    def _write(self, t: SourceTable, rows: Sequence[Any]) -> int:
        converters = [m.convert for m in self.mapped[t.name]]
        marks = ", ".join("?" for _ in t.columns)
        before = self.out.total_changes
        self.out.executemany(
            f"INSERT OR IGNORE INTO {q(t.name)} VALUES ({marks})",
            [tuple(convert(v) for convert, v in zip(converters, row, strict=True)) for row in rows],
        )
        if self.cap:  # which keys are here, and which parents the new rows need
            index = {c.name: i for i, c in enumerate(t.columns)}
            for row in rows:
                for columns in self.referenced.get(t.name, ()):
                    self.present[t.name][columns].add(tuple(row[index[c]] for c in columns))
                for fk in t.foreign_keys:
                    key = tuple(row[index[c]] for c in fk.columns)
                    if None not in key:
                        self.needed[fk.ref_table][fk.ref_columns].add(key)
        return self.out.total_changes - before

    def _add_parents(self, connection: sa.Connection) -> None:
        """Copy every referenced row that is missing, then the rows those reference, and so on."""
        while True:
            added = 0
            for parent_name in list(self.needed):
                parent = self.schema.table(parent_name)
                table = self._table(parent)
                for columns in list(self.needed[parent_name]):
                    missing = self.needed[parent_name][columns] - self.present[parent_name][columns]
                    self.needed[parent_name][columns] = set()
                    ordered = sorted(missing, key=repr)
                    for start in range(0, len(ordered), PARENT_CHUNK):
                        chunk = ordered[start : start + PARENT_CHUNK]
                        if len(columns) == 1:
                            where = table.c[columns[0]].in_([k[0] for k in chunk])
                        else:
                            where = sa.tuple_(*(table.c[c] for c in columns)).in_(chunk)
                        rows = connection.execute(sa.select(*table.columns).where(where)).all()
                        n = self._write(parent, rows)
                        self.parents_added[parent_name] += n
                        added += n
            if not added:
                return


def _manifest(
    ref: SourceRef, schema: SourceSchema, copier: _Copier, copied: dict[str, int], cap: int
) -> dict[str, Any]:
    return {
        "source": ref.display_url(),
        "name": ref.name,
        "taken_at": datetime.now(UTC).isoformat(),
        "snapshot_rows": cap,
        "tables": {
            t.name: {
                "rows_present": copier.rows_present.get(t.name, 0),
                "rows_copied": copied.get(t.name),
                "parents_added": copier.parents_added.get(t.name, 0),
                "comment": t.comment,
                "columns": {
                    c.name: _column(c, m) for c, m in zip(t.columns, copier.mapped[t.name], strict=True)
                },
            }
            for t in schema.tables
        },
        "unreadable": schema.unreadable,
    }


def _column(column: Any, mapped: Mapped) -> dict[str, str]:
    return {
        "source_type": str(column.type),
        "sqlite_type": mapped.sqlite,
        "approximated": mapped.note,
        "comment": column.comment,
    }
