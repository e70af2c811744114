"""Fuzzing a database (Zhong et al. 2020): a variant keeps the original's schema (the CREATE statements
are copied verbatim) and fills it with random rows that respect column types, primary keys, UNIQUE
indexes and foreign keys. Values come from the column's own values and perturbations of them
(numbers +/- 1, bounds, substrings for LIKE), so predicates in real queries still select something."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.schema import DatabaseSchema, TableInfo, introspect, open_readonly, quote_identifier


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_stamp(path: str | Path) -> tuple[int, int]:
    """Which file a path holds now (a snapshot refresh swaps a new one in): inode and mtime."""
    try:
        stat = os.stat(path)
    except OSError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


@dataclass
class _ColumnPool:
    """What a fuzzer may put in one column."""

    values: list[Any]
    numeric: bool
    nullable: bool
    hints: list[Any] = field(default_factory=list)  # literals the gold queries compare this column with


def literal_hints(queries: Sequence[str]) -> dict[str, set[Any]]:
    """Values the gold queries compare columns with (and their +/- 1 neighbours), by column name.

    Boundary bugs (> vs >=, off-by-one literals) only show on rows that hold exactly these values."""
    from sqlglot import exp

    from shared.sql import SqlParseError, parse

    hints: dict[str, set[Any]] = {}
    for sql in queries:
        try:
            tree = parse(sql)
        except SqlParseError:
            continue
        for node in tree.find_all(exp.Binary):
            column = node.this if isinstance(node.this, exp.Column) else node.expression
            literal = node.expression if isinstance(node.this, exp.Column) else node.this
            if not isinstance(column, exp.Column) or not isinstance(literal, exp.Literal):
                continue
            values = hints.setdefault(column.name.lower(), set())
            if literal.is_number:
                number = float(literal.this)
                number = int(number) if number.is_integer() else number
                values.update({number, number - 1, number + 1})
            else:
                text = literal.this
                if isinstance(node, exp.Like):
                    text = text.replace("%", "").replace("_", "")
                values.add(text)
    return hints


def _column_pools(
    connection: sqlite3.Connection, table: TableInfo, hints: dict[str, set[Any]] | None = None
) -> dict[str, _ColumnPool]:
    pools = {}
    for column in table.columns:
        q = quote_identifier(column.name)
        rows = connection.execute(
            f"SELECT DISTINCT {q} FROM {quote_identifier(table.name)} LIMIT 2000"
        ).fetchall()
        values = [r[0] for r in rows if r[0] is not None]
        numeric = bool(values) and all(isinstance(v, (int, float)) for v in values)
        if not values:
            numeric = any(t in column.type.upper() for t in ("INT", "REAL", "NUM", "FLOAT", "DOUBLE", "DEC"))
        hinted = sorted((hints or {}).get(column.name.lower(), ()), key=repr)
        hinted = [h for h in hinted if isinstance(h, (int, float)) == numeric]
        pools[column.name] = _ColumnPool(
            values, numeric, not column.not_null and not column.primary_key, hinted
        )
    return pools


def _perturb(value: Any, pool: _ColumnPool, rng: random.Random) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value + rng.choice((-1, 1))
    if isinstance(value, float):
        return round(value + rng.choice((-1.0, 1.0, -0.5, 0.5)), 2)
    if isinstance(value, str) and len(value) > 2:
        start = rng.randrange(0, len(value) - 1)
        return value[start : start + rng.randint(1, len(value) - start)]  # substring: exercises LIKE
    return value


def _draw(pool: _ColumnPool, rng: random.Random) -> Any:
    if pool.nullable and rng.random() < 0.05:
        return None
    if not pool.values:
        return rng.randint(0, 100) if pool.numeric else f"v{rng.randint(0, 100)}"
    roll = rng.random()
    if pool.hints and roll < 0.25:
        return rng.choice(pool.hints)
    if roll < 0.7:
        return rng.choice(pool.values)
    if roll < 0.8 and pool.numeric:
        return rng.choice((min(pool.values), max(pool.values)))  # boundaries
    return _perturb(rng.choice(pool.values), pool, rng)


def _unique_sets(connection: sqlite3.Connection, table: str) -> list[tuple[str, ...]]:
    sets = []
    for row in connection.execute(f"PRAGMA index_list({quote_identifier(table)})").fetchall():
        if row[2]:  # unique (PRIMARY KEY autoindexes included)
            cols = tuple(
                r[2] for r in connection.execute(f"PRAGMA index_info({quote_identifier(row[1])})").fetchall()
            )
            if cols and None not in cols:
                sets.append(cols)
    return sets


def _table_order(schema: DatabaseSchema) -> list[TableInfo]:
    """Parents before children so foreign keys can point at rows that already exist."""
    names = {t.name.lower(): t for t in schema.tables}
    ordered: list[TableInfo] = []
    visiting: set[str] = set()

    def visit(table: TableInfo) -> None:
        key = table.name.lower()
        if table in ordered or key in visiting:
            return
        visiting.add(key)
        for fk in table.foreign_keys:
            parent = names.get(fk.ref_table.lower())
            if parent is not None and parent is not table:
                visit(parent)
        ordered.append(table)

    for table in schema.tables:
        visit(table)
    return ordered


def fuzz_database(
    source: Path, target: Path, seed: int, max_table_rows: int = 60, hints: dict[str, set[Any]] | None = None
) -> None:
    """Write a variant of source to target: same schema, random rows respecting keys.

    hints: values to plant per column name (see literal_hints)."""
    schema = introspect(source, samples_per_column=0)
    rng = random.Random(seed)
    src = open_readonly(source)
    try:
        ddl = [
            r[0]
            for r in src.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
            )
        ]
        pools = {t.name: _column_pools(src, t, hints) for t in schema.tables}
        uniques = {t.name: _unique_sets(src, t.name) for t in schema.tables}
    finally:
        src.close()
    if target.exists():
        target.unlink()
    out = sqlite3.connect(target)
    try:
        for statement in ddl:
            out.execute(statement)
        generated: dict[str, dict[str, list[Any]]] = {}
        for table in _table_order(schema):
            columns = [c.name for c in table.columns]
            fk_by_column = {fk.column: fk for fk in table.foreign_keys}
            low = min(table.row_count, 3) if table.row_count else 0
            n_rows = (
                rng.randint(low, max(low, min(max_table_rows, max(table.row_count, 3))))
                if table.row_count
                else 0
            )
            unique_sets = set(uniques[table.name]) | ({table.primary_key} if table.primary_key else set())
            unique_seen: dict[tuple[str, ...], set[tuple[Any, ...]]] = {u: set() for u in unique_sets}
            rows = []
            for _ in range(n_rows * 5):  # retries for unique collisions
                if len(rows) >= n_rows:
                    break
                row = {}
                for column in columns:
                    fk = fk_by_column.get(column)
                    parent_values = (
                        generated.get(fk.ref_table.lower(), {}).get(fk.ref_column.lower()) if fk else None
                    )
                    if parent_values:
                        row[column] = rng.choice(parent_values)
                    else:
                        row[column] = _draw(pools[table.name][column], rng)
                keys = {u: tuple(row[c] for c in u) for u in unique_seen}
                if any(k in unique_seen[u] for u, k in keys.items()):
                    continue
                if any(row[c] is None for c in table.primary_key):
                    continue
                for u, k in keys.items():
                    unique_seen[u].add(k)
                rows.append(row)
            placeholders = ", ".join("?" for _ in columns)
            names = ", ".join(quote_identifier(c) for c in columns)
            out.executemany(
                f"INSERT INTO {quote_identifier(table.name)} ({names}) VALUES ({placeholders})",
                [tuple(r[c] for c in columns) for r in rows],
            )
            generated[table.name.lower()] = {
                c.lower(): [r[c] for r in rows if r[c] is not None] for c in columns
            }
        out.commit()
    finally:
        out.close()


def hash_seed(seed: int, db_id: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{db_id}:{index}".encode()).digest()[:8], "big")
