"""Write the bundled benchmark in Spider format: database/<db_id>/<db_id>.sqlite, tables.json,
train.json, dev.json and seed.json (the few-shot pool). Deterministic: same files every build.

The questions are data (data/questions/<db_id>.jsonl: explicit id, split, hardness, question, gold
SQL), so adding one renumbers nothing; the build's VERSION is the content hash of the data and of
the generator code, so any change to either rebuilds a stale copy.

    python -m shared.bundled.build DEST
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import shutil
import sqlite3
import tempfile
from pathlib import Path

from shared.bundled.databases import SEED_BASE, database_ids, load_tables
from shared.bundled.tables import Table, generate
from shared.schema import introspect

DATA = Path(__file__).with_name("data")
SPLITS = ("train", "dev", "seed")


def content_version() -> str:
    """SHA-256 over the data files and the generator modules: what a build's bytes depend on."""
    digest = hashlib.sha256()
    sources = sorted([*DATA.rglob("*.json*"), *DATA.rglob("*.yaml")]) + [
        Path(__file__).with_name(n) for n in ("build.py", "databases.py", "derivations.py", "tables.py")
    ]
    for path in sources:
        label = path.relative_to(DATA) if path.is_relative_to(DATA) else path.name
        digest.update(str(label).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_questions(db_id: str) -> list[dict[str, str]]:
    """The database's questions in file order, each with its stable id and split."""
    path = DATA / "questions" / f"{db_id}.jsonl"
    if not path.is_file():
        return []
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for item in items:
        if item.get("split") not in SPLITS or not str(item.get("id", "")).startswith(f"{db_id}-"):
            raise ValueError(
                f"{path}: question {item.get('id')!r} needs an id '{db_id}-...' and a split in {SPLITS}"
            )
    return items


def write_database(db_id: str, tables: list[Table], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        for table in tables:
            connection.execute(table.ddl())
            columns = [c.name for c in table.columns]
            connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                [tuple(row[c] for c in columns) for row in table.data],
            )
        connection.commit()
        connection.execute("VACUUM")
    finally:
        connection.close()


def tables_json_entry(db_id: str, path: Path) -> dict:
    """Spider's tables.json fields, from the file itself."""
    schema = introspect(path, db_id, samples_per_column=0)
    column_names = [[-1, "*"]]
    column_types = ["text"]
    primary_keys, foreign_keys, index = [], [], {}
    for t_index, table in enumerate(schema.tables):
        for column in table.columns:
            index[(table.name, column.name)] = len(column_names)
            column_names.append([t_index, column.name])
            column_types.append("number" if column.type.upper() in ("INTEGER", "REAL") else "text")
            if column.primary_key:
                primary_keys.append(index[(table.name, column.name)])
    for table in schema.tables:
        for fk in table.foreign_keys:
            foreign_keys.append([index[(table.name, fk.column)], index[(fk.ref_table, fk.ref_column)]])
    names = [t.name for t in schema.tables]
    return {
        "db_id": db_id,
        "table_names_original": names,
        "table_names": [n.replace("_", " ") for n in names],
        "column_names_original": column_names,
        "column_names": [[t, n.replace("_", " ")] for t, n in column_names],
        "column_types": column_types,
        "primary_keys": primary_keys,
        "foreign_keys": foreign_keys,
    }


def build(dest: Path) -> Path:
    """Build into a temp folder beside dest and rename it into place (never half-written)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        tables_json, splits = [], {"train": [], "dev": [], "seed": []}
        for number, db_id in enumerate(database_ids()):
            tables = load_tables(db_id)
            generate(tables, random.Random(SEED_BASE + number))
            path = tmp / "database" / db_id / f"{db_id}.sqlite"
            write_database(db_id, tables, path)
            tables_json.append(tables_json_entry(db_id, path))
            for q in load_questions(db_id):
                splits[q["split"]].append(
                    {
                        "id": q["id"],
                        "db_id": db_id,
                        "question": q["question"],
                        "query": q["query"],
                        "hardness": q["hardness"],
                    }
                )
        (tmp / "tables.json").write_text(json.dumps(tables_json, indent=1))
        for split, items in splits.items():
            (tmp / f"{split}.json").write_text(json.dumps(items, indent=1))
        (tmp / "VERSION").write_text(content_version())
        shutil.copy(Path(__file__).with_name("README.md"), tmp / "README.md")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def is_current(dest: Path) -> bool:
    version = Path(dest) / "VERSION"
    return version.is_file() and version.read_text().strip() == content_version()


def ensure_built(dest: Path) -> Path:
    """dest holding the current build: built, or rebuilt when stale, on first use."""
    if not is_current(dest):
        logging.getLogger("sqldistill.dataset").info("building the bundled databases into %s", dest)
        build(dest)
    return Path(dest)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dest", type=Path)
    args = parser.parse_args()
    print(build(args.dest))


if __name__ == "__main__":
    main()
