"""The database catalogue: which databases exist, what their schemas look like, which questions go with them.

Reads a Spider-format folder (tables.json, <split>.json, database/<db_id>/<db_id>.sqlite), a
BIRD-format one (dev.json with `SQL`, `evidence` and `difficulty`, dev_tables.json,
dev_databases/<db_id>/<db_id>.sqlite) or any folder of SQLite files. Schemas are introspected from the SQLite file itself, so a
folder with no tables.json works the same; tables.json is only used for the question splits.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
# Spider's file names for its splits, mapped to our split names.
SPIDER_SPLIT_FILES = {
    "train": ("train_spider.json", "train_others.json"),
    "dev": ("dev.json",),
    "test": ("test.json",),
}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        line = f"  {column.name} {column.type or 'TEXT'}".rstrip()
        if column.primary_key and single_pk:
            line += " PRIMARY KEY"
        if column.name.lower() in fks:
            fk = fks[column.name.lower()]
            line += f" REFERENCES {fk.ref_table}({fk.ref_column})"
        samples = ", ".join(_literal(v) for v in column.sample_values[:sample_values])
        note = "; ".join(part for part in (column.comment, f"e.g. {samples}" if samples else "") if part)
        lines.append((line, note))
    if not single_pk and table.primary_key:
        lines.append((f"  PRIMARY KEY ({', '.join(table.primary_key)})", ""))
    body = []
    for i, (line, note) in enumerate(lines):
        comma = "," if i < len(lines) - 1 else ""
        body.append(f"{line}{comma}" + (f" -- {note}" if note else ""))
    head = f"-- {table.comment}\n" if table.comment else ""
    return f"{head}CREATE TABLE {table.name} (\n" + "\n".join(body) + "\n);"


def introspect(path: Path, db_id: str | None = None, samples_per_column: int = 3) -> DatabaseSchema:
    """Read tables, columns, keys, row counts and sample values from the SQLite file itself; a
    snapshot of a source database adds the source's comments from its manifest."""
    comments = _snapshot_tables(Path(path))
    connection = open_readonly(path)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
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


@dataclass(frozen=True)
class Example:
    """A question with its gold SQL as Spider ships them; `query` is "" for a question without SQL.
    BIRD's questions carry `evidence` (external knowledge the prompt shows) and a `difficulty`."""

    db_id: str
    question: str
    query: str
    split: str
    id: str = ""
    hardness: str = ""
    evidence: str = ""
    difficulty: str = ""


@dataclass
class Catalogue:
    """Databases by id, plus the question splits when the folder is Spider-format."""

    root: Path
    databases: dict[str, Path]
    split_files: dict[str, tuple[Path, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | str) -> Catalogue:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"dataset folder {root} does not exist")
        if (root / "database").is_dir():
            databases = _find_spider_databases(root / "database")
        else:
            databases = _find_sqlite_files(root)
        splits: dict[str, tuple[Path, ...]] = {}
        for split, names in SPIDER_SPLIT_FILES.items():
            files = tuple(root / n for n in names if (root / n).is_file())
            if files:
                splits[split] = files
        # Any other <split>.json of examples (our bundled data names its splits freely), and
        # <split>.jsonl of {db_id, question[, query]} lines (question logs without SQL).
        for path in sorted([*root.glob("*.json"), *root.glob("*.jsonl")]):
            known = {n for names in SPIDER_SPLIT_FILES.values() for n in names}
            if path.name not in known and not path.name.endswith("tables.json"):  # BIRD: dev_tables.json
                splits.setdefault(path.stem, (path,))
        return cls(root, databases, splits)

    @property
    def db_ids(self) -> list[str]:
        self._notice_new_databases()
        return sorted(self.databases)

    def has(self, db_id: str) -> bool:
        if db_id not in self.databases:
            self._notice_new_databases(db_id)
        return db_id in self.databases

    def path(self, db_id: str) -> Path:
        if db_id not in self.databases:
            self._notice_new_databases(db_id)
        try:
            return self.databases[db_id]
        except KeyError:
            raise KeyError(f"unknown database {db_id!r}") from None

    def schema(self, db_id: str) -> DatabaseSchema:
        """Introspected once per version of the file: a refreshed snapshot is read again."""
        path = self.path(db_id)
        key = (db_id, path.stat().st_mtime_ns)
        if key not in self._schemas:
            self._schemas[key] = introspect(path, db_id)
        return self._schemas[key]

    @cached_property
    def _schemas(self) -> dict[tuple[str, int], DatabaseSchema]:
        return {}

    def _notice_new_databases(self, db_id: str = "") -> None:
        """A Spider-format folder's database/ changed (`sqldistill db add` or `remove` while the
        services run): scan it again, so a new snapshot is served without a restart."""
        folder = self.root / "database"
        try:
            stamp = folder.stat().st_mtime_ns
        except OSError:
            return
        if stamp != self.__dict__.get("_database_stamp"):
            self.databases = _find_spider_databases(folder)
            self.__dict__["_database_stamp"] = stamp
        if db_id and db_id not in self.databases and "/" not in db_id and not db_id.startswith("."):
            # A snapshot's file lands in its folder after the folder was made (a change database/'s
            # own time does not show): look for it directly.
            for suffix in SQLITE_SUFFIXES:
                candidate = folder / db_id / f"{db_id}{suffix}"
                if candidate.is_file():
                    self.databases = {**self.databases, db_id: candidate}
                    break

    @property
    def splits(self) -> list[str]:
        return sorted(self.split_files)

    def examples(self, split: str) -> list[Example]:
        if split not in self.split_files:
            raise KeyError(f"unknown split {split!r}; this dataset has {', '.join(self.splits) or 'none'}")
        examples = []
        for path in self.split_files[split]:
            for i, item in enumerate(_read_items(path)):
                examples.append(
                    Example(
                        db_id=item["db_id"],
                        question=item["question"],
                        query=item.get("query") or item.get("sql_text") or item.get("SQL", ""),
                        split=split,
                        id=str(item.get("id", item.get("question_id", f"{path.stem}-{i}"))),
                        hardness=item.get("hardness", ""),
                        evidence=(item.get("evidence") or "").strip(),
                        difficulty=item.get("difficulty", ""),
                    )
                )
        return examples


def _read_items(path: Path) -> list[dict]:
    """A split's entries: a JSON array, or JSON Lines (one object a line, blank lines skipped)."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not a JSON object: {exc.msg}") from None
        return items
    return json.loads(text)


def _find_spider_databases(folder: Path) -> dict[str, Path]:
    found = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for suffix in SQLITE_SUFFIXES:
            candidate = sub / f"{sub.name}{suffix}"
            if candidate.is_file():
                found[sub.name] = candidate
                break
    return found


def _find_sqlite_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in SQLITE_SUFFIXES and path.is_file() and _is_sqlite(path):
            db_id = path.stem if path.stem not in found else f"{path.parent.name}_{path.stem}"
            found[db_id] = path
    return found


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"
