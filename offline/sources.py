"""`sqldistill db`: a team's databases registered as sources and snapshotted into the dataset folder
the services read (`database/<name>/<name>.sqlite`), straight on the store and the folder - no
service needs to run. A source is registered only once its first snapshot is taken."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared import defaults
from shared.catalogue import Catalogue
from shared.sources.connection import SourceError, SourceRef, check, parse_url
from shared.sources.snapshot import snapshot_path, take_snapshot
from shared.store import Source, Store

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class SourceView:
    name: str
    url: str  # without password
    snapshot_rows: int
    refreshed_at: datetime | None
    figures: dict[str, Any]
    last_error: str


def _ref(row: Source) -> SourceRef:
    return SourceRef(row.name, row.url, row.password_env, row.password_file, row.source_schema)


def _figures(manifest: dict[str, Any]) -> dict[str, Any]:
    tables = manifest["tables"].values()
    return {
        "tables": len(manifest["tables"]),
        "rows_copied": sum(t["rows_copied"] or 0 for t in tables),
        "rows_present": sum(t["rows_present"] or 0 for t in tables),
        "approximated_columns": sum(1 for t in tables for c in t["columns"].values() if c["approximated"]),
        "unreadable_tables": len(manifest["unreadable"]),
    }


def add_source(
    store_url: str,
    dataset: Path,
    name: str,
    url: str,
    password_env: str = "",
    password_file: str = "",
    schema: str = "",
    snapshot_rows: int = defaults.SNAPSHOT_ROWS,
) -> dict[str, Any]:
    """Register a source and take its first snapshot; the manifest. SourceError says what is wrong."""
    if not NAME.fullmatch(name):
        raise SourceError("a source's name is a letter then up to 63 letters, digits or _ (its database id)")
    if snapshot_rows < 0:
        raise SourceError("snapshot_rows must be >= 0 (0 = every row)")
    ref = SourceRef(name, parse_url(url, password_env, password_file), password_env, password_file, schema)
    store = Store.open(store_url)
    try:
        with store.session() as s:
            if s.get(Source, name) is not None:
                raise SourceError(f"source {name} exists: `sqldistill db refresh {name}` or remove it first")
        existing = Catalogue.load(dataset).databases
        if existing and not (dataset / "database").is_dir():
            raise SourceError(
                f"{dataset} is a folder of SQLite files: sources need a Spider-format dataset folder "
                "(database/<name>/<name>.sqlite), such as the bundled one"
            )
        if name in existing:
            raise SourceError(f"the dataset already has a database {name!r}: choose another name")
        check(ref)
        try:
            manifest = take_snapshot(ref, dataset, snapshot_rows)
        except SourceError:
            folder = snapshot_path(dataset, name).parent
            if folder.is_dir() and not snapshot_path(dataset, name).exists():
                shutil.rmtree(folder)  # a first snapshot that failed registers nothing, leaves nothing
            raise
        with store.session() as s:
            s.add(
                Source(
                    name=name,
                    url=ref.url,
                    password_env=password_env,
                    password_file=password_file,
                    source_schema=schema,
                    snapshot_rows=snapshot_rows,
                    refreshed_at=datetime.now(UTC),
                    figures=_figures(manifest),
                    last_error="",
                )
            )
        return manifest
    finally:
        store.close()


def refresh_source(
    store_url: str, dataset: Path, name: str, snapshot_rows: int | None = None
) -> dict[str, Any]:
    """A new snapshot in place of the last (with a new row cap when given, kept for later
    refreshes); on failure the last one keeps serving and the source records why."""
    if snapshot_rows is not None and snapshot_rows < 0:
        raise SourceError("snapshot_rows must be >= 0 (0 = every row)")
    store = _existing(store_url)
    try:
        with store.session() as s:
            row = _get(s, name)
            if snapshot_rows is not None:
                row.snapshot_rows = snapshot_rows
            ref, cap = _ref(row), row.snapshot_rows
        try:
            manifest = take_snapshot(ref, dataset, cap)
        except SourceError as exc:
            failed = SourceError(f"{exc}; the previous snapshot still serves")
            with store.session() as s:
                _get(s, name).last_error = str(failed)
            raise failed from None
        with store.session() as s:
            row = _get(s, name)
            row.refreshed_at, row.figures, row.last_error = datetime.now(UTC), _figures(manifest), ""
        return manifest
    finally:
        store.close()


def remove_source(store_url: str, dataset: Path, name: str) -> None:
    """Forget the source and delete its snapshot."""
    store = _existing(store_url)
    try:
        with store.session() as s:
            s.delete(_get(s, name))
        folder = snapshot_path(dataset, name).parent
        if folder.is_dir():
            shutil.rmtree(folder)
    finally:
        store.close()


def list_sources(store_url: str) -> list[SourceView]:
    store = Store.existing(store_url)
    if store is None:
        return []
    try:
        with store.session() as s:
            return [
                SourceView(
                    r.name,
                    _ref(r).display_url(),
                    r.snapshot_rows,
                    r.refreshed_at,
                    dict(r.figures or {}),
                    r.last_error,
                )
                for r in s.query(Source).order_by(Source.name)
            ]
    finally:
        store.close()


def _existing(store_url: str) -> Store:
    store = Store.existing(store_url)
    if store is None:
        raise SourceError("there is no store yet: add a source first (`sqldistill db add NAME URL`)")
    return store


def _get(s: Any, name: str) -> Source:
    row = s.get(Source, name)
    if row is None:
        raise SourceError(f"no source {name!r} (`sqldistill db list` shows them)")
    return row


def refresh_all(store_url: str, dataset: Path) -> dict[str, str]:
    """Every registered source snapshotted again (the nightly Kubernetes CronJob); per source "" or
    why its refresh failed - one failure does not stop the others."""
    outcome = {}
    for source in list_sources(store_url):
        try:
            refresh_source(store_url, dataset, source.name)
            outcome[source.name] = ""
        except SourceError as exc:
            outcome[source.name] = str(exc)
    return outcome
