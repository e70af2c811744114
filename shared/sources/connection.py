"""A source's URL and credentials: the URL is kept without its password; the password comes from an
environment variable or a file at connect time, so neither the store nor a log ever holds it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DIALECTS = {  # URL scheme (before any +driver) -> the sqlglot dialect its SQL is written in
    "postgresql": "postgres",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
}
CONNECT_TIMEOUT_SECONDS = 10
FILE_ENGINES = ("sqlite", "duckdb")  # a source that is one file on this machine
# URL schemes whose drivers `make setup` installs (the sources extra): what a refused URL is told to use
KNOWN_DRIVERS = ("postgresql+psycopg://", "mysql+pymysql://", "duckdb:///", "sqlite:///")


class SourceError(ValueError):
    """A source cannot be registered, reached or read; the message says which and why."""


@dataclass(frozen=True)
class SourceRef:
    """What the store keeps of a source: never a password."""

    name: str
    url: str  # without password
    password_env: str = ""  # the environment variable holding the password
    password_file: str = ""  # or the file holding it
    schema: str = ""  # the source's schema to read ("" = its default)

    @property
    def dialect(self) -> str:
        return DIALECTS[make_url(self.url).get_backend_name()]

    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def parse_url(url: str, password_env: str = "", password_file: str = "") -> str:
    """The URL to keep, or SourceError: a known engine, no password inside it."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise SourceError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in DIALECTS:
        raise SourceError(f"unsupported engine {backend!r}; expected one of {', '.join(DIALECTS)}")
    try:  # the driver the URL names (or its engine's default) must be installed here
        parsed.get_dialect().import_dbapi()
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise SourceError(
            f"no driver for {parsed.drivername!r} here ({exc}); installed: {', '.join(_drivers_here())}"
        ) from None
    if parsed.password:
        raise SourceError(
            "the URL holds a password: pass it in an environment variable (--password-env VAR) or a "
            "file (--password-file PATH), so it is never stored"
        )
    if password_env and password_file:
        raise SourceError("give --password-env or --password-file, not both")
    if backend in FILE_ENGINES:  # a file: kept absolute, so every process (a refresh Job too) finds it
        if not parsed.database or parsed.database == ":memory:":
            raise SourceError(f"a {backend} source is a database file: {backend}:///path/to/file")
        path = Path(parsed.database).expanduser().resolve()
        if not path.is_file():
            raise SourceError(f"no database file {path}")
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def _drivers_here() -> list[str]:
    """Which of the known URL schemes have their driver installed in this environment."""
    here = []
    for scheme in KNOWN_DRIVERS:
        try:
            make_url(scheme + "x").get_dialect().import_dbapi()
        except (ImportError, sa.exc.NoSuchModuleError):
            continue
        here.append(scheme)
    return here


def _password(ref: SourceRef) -> str | None:
    if ref.password_env:
        if ref.password_env not in os.environ:
            raise SourceError(f"source {ref.name}: environment variable {ref.password_env} is not set")
        return os.environ[ref.password_env]
    if ref.password_file:
        try:
            return Path(ref.password_file).read_text().strip()
        except OSError as exc:
            raise SourceError(f"source {ref.name}: cannot read the password file: {exc.strerror}") from None
    return None


def connect_url(ref: SourceRef) -> URL:
    url = make_url(ref.url)
    password = _password(ref)
    return url.set(password=password) if password is not None else url


def engine_for(ref: SourceRef) -> sa.Engine:
    """An engine for the source; connection failures surface as SourceError from `check`."""
    url = connect_url(ref)
    args: dict = {}
    backend = url.get_backend_name()
    if backend in ("postgresql", "mysql"):
        args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if backend == "duckdb":  # the database file read-only, and no other file or URL at all
        args["read_only"] = True
        args["config"] = {"enable_external_access": False}
    if backend == "sqlite":  # read-only too: a source is read, never written (or created if missing)
        url = url.set(
            database=f"file:{quote(url.database or '')}", query={**url.query, "mode": "ro", "uri": "true"}
        )
    return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)


def reason_of(exc: sa.exc.DBAPIError) -> str:
    """The engine's own message, first line (no statement, no parameters, no password)."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


def check(ref: SourceRef) -> None:
    """Connect once; SourceError with the engine's own reason (no password in it) when it fails."""
    engine = engine_for(ref)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise SourceError(
            f"cannot connect to source {ref.name} ({ref.display_url()}): {reason_of(exc)}"
        ) from None
    finally:
        engine.dispose()
