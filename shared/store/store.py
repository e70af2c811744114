"""Opening the store (SQLite file or any SQLAlchemy URL), migrating it, and idempotent writes."""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from shared.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x5D15_7111  # PostgreSQL advisory lock held while migrating


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the controller's writes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL; None for any other database."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


class Store:
    """A handle on the store: sessions, migrations, and writes that never double."""

    def __init__(self, url: str) -> None:
        self.url = url
        if (path := sqlite_file(url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def existing(cls, url: str) -> Store | None:
        """The store at url to read, not migrated; None when it is a SQLite file that does not
        exist yet (looking never creates one)."""
        path = sqlite_file(url)
        return None if path is not None and not path.is_file() else cls(url)

    @classmethod
    def open(cls, url: str, migrate: bool = True) -> Store:
        store = cls(url)
        if migrate:
            store.migrate()
        return store

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic (safe to call on every start, and from several
        services starting at once: one migrates while the others wait, then find nothing to do)."""
        with self._migration_lock(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """An exclusive file lock beside a SQLite file (PostgreSQL uses an advisory lock instead)."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _insert(self, model: type[Base]):
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return sqlite.insert(model)
        if dialect == "postgresql":
            return postgresql.insert(model)
        raise NotImplementedError(f"idempotent inserts are not implemented for {dialect}")

    def insert_ignore(self, session: Session, model: type[Base], rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert rows, skipping any that collide with an existing key; returns rows inserted."""
        rows = list(rows)
        if not rows:
            return 0
        # Counted from RETURNING: a driver's rowcount for a multi-row insert may be -1 (psycopg 3).
        key = list(model.__table__.primary_key.columns)[0]
        result = session.execute(self._insert(model).values(rows).on_conflict_do_nothing().returning(key))
        return len(result.all())

    def upsert(
        self, session: Session, model: type[Base], row: Mapping[str, Any], keys: Iterable[str]
    ) -> None:
        """Insert row, or update the non-key columns of the row with the same keys."""
        keys = list(keys)
        stmt = self._insert(model).values(dict(row))
        updates = {name: stmt.excluded[name] for name in row if name not in keys}
        if updates:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        session.execute(stmt)

    def close(self) -> None:
        self.engine.dispose()
