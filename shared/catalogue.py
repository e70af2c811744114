"""The database catalogue: which databases exist, what their schemas look like (shared/schema.py), which questions go with them.

Reads a Spider-format folder (tables.json, <split>.json, database/<db_id>/<db_id>.sqlite), a
BIRD-format one (dev.json with `SQL`, `evidence` and `difficulty`, dev_tables.json,
dev_databases/<db_id>/<db_id>.sqlite) or any folder of SQLite files. Schemas are introspected from the SQLite file itself, so a
folder with no tables.json works the same; tables.json is only used for the question splits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from shared.schema import DatabaseSchema, introspect

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
# Spider's file names for its splits, mapped to our split names.
SPIDER_SPLIT_FILES = {
    "train": ("train_spider.json", "train_others.json"),
    "dev": ("dev.json",),
    "test": ("test.json",),
}


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
