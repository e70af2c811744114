"""`sqldistill db`: your own databases (PostgreSQL, MySQL, DuckDB, SQLite) as sources, snapshotted
into the dataset folder the services read; runs and `ask` then use them like any other database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.connect import ConfigOption
from cli.consoles import make_console
from shared import defaults

console = make_console()
app = typer.Typer(help="Your own databases: register, snapshot into the sandbox, refresh, remove.")


def _where(config_file: Path | None) -> tuple[str, Path]:
    from shared.bundled.locate import default_dataset
    from shared.config import load_config

    config = load_config(config_file)
    return config.resolved_store_url, Path(config.dataset) if config.dataset else default_dataset(config)


def _fail(exc: Exception) -> None:
    console.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def _summary(manifest: dict[str, Any]) -> None:
    tables = manifest["tables"]
    copied = sum(t["rows_copied"] for t in tables.values())
    present = sum(t["rows_present"] for t in tables.values())
    console.print(
        f"{manifest['name']}: {len(tables)} tables, {copied} of {present} rows copied"
        + (
            f" (at most {manifest['snapshot_rows']} per table, plus the parents they reference)"
            if manifest["snapshot_rows"]
            else ""
        ),
        highlight=False,
    )
    approximated = [
        f"{table}.{column}: {c['approximated']}"
        for table, t in tables.items()
        for column, c in t["columns"].items()
        if c["approximated"]
    ]
    for line in approximated:
        console.print(f"  approximated {line}", highlight=False)
    for table, why in manifest["unreadable"].items():
        console.print(
            f"  [yellow]left out {table}: this role cannot read it ({why})[/yellow]", highlight=False
        )


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Its database id here (letters, digits, _).")],
    url: Annotated[
        str, typer.Argument(help="postgresql://, mysql+pymysql://, duckdb:///path or sqlite:///path")
    ],
    password_env: Annotated[str, typer.Option(help="Environment variable that holds the password.")] = "",
    password_file: Annotated[str, typer.Option(help="File that holds the password.")] = "",
    schema: Annotated[str, typer.Option(help="The source's schema to read (default: its default).")] = "",
    snapshot_rows: Annotated[
        int | None,
        typer.Option(
            help=f"Rows copied per table, plus referenced parents (0 = all). [default: {defaults.SNAPSHOT_ROWS}]"
        ),
    ] = None,
    config_file: ConfigOption = None,
) -> None:
    """Register a source and snapshot it into the sandbox (no password is ever stored)."""
    from offline.sources import add_source
    from shared.sources.connection import SourceError

    try:
        store_url, dataset = _where(config_file)
        rows = defaults.SNAPSHOT_ROWS if snapshot_rows is None else snapshot_rows
        with console.status(f"snapshotting {name}..."):
            manifest = add_source(store_url, dataset, name, url, password_env, password_file, schema, rows)
    except (SourceError, OSError) as exc:
        _fail(exc)
    _summary(manifest)


@app.command()
def refresh(
    name: Annotated[str, typer.Argument(help="The source to snapshot again.")] = "",
    every: Annotated[bool, typer.Option("--all", help="Every registered source (a nightly job).")] = False,
    snapshot_rows: Annotated[
        int | None, typer.Option(help="A new row cap per table for this source, kept (0 = all).")
    ] = None,
    config_file: ConfigOption = None,
) -> None:
    """Snapshot a source again; if it fails, the last snapshot keeps serving."""
    from offline.sources import refresh_all, refresh_source
    from shared.sources.connection import SourceError

    if bool(name) == every:
        _fail(ValueError("name one source, or give --all"))
    try:
        store_url, dataset = _where(config_file)
        if every:
            failed = {n: why for n, why in refresh_all(store_url, dataset).items() if why}
            for source, why in sorted(failed.items()):
                console.print(f"[red]{source}: {why}[/red]", highlight=False, soft_wrap=True)
            if failed:
                raise typer.Exit(1)
            console.print("every source refreshed")
            return
        with console.status(f"snapshotting {name}..."):
            manifest = refresh_source(store_url, dataset, name, snapshot_rows)
    except (SourceError, OSError) as exc:
        _fail(exc)
    _summary(manifest)


@app.command()
def remove(name: str, config_file: ConfigOption = None) -> None:
    """Forget a source and delete its snapshot."""
    from offline.sources import remove_source
    from shared.sources.connection import SourceError

    try:
        store_url, dataset = _where(config_file)
        remove_source(store_url, dataset, name)
    except (SourceError, OSError) as exc:
        _fail(exc)
    console.print(f"removed {name}")


@app.command("list")
def list_command(config_file: ConfigOption = None) -> None:
    """Registered sources, their last snapshot and any failed refresh."""
    from offline.sources import list_sources

    table = Table(
        "name", "url", "refreshed", "tables", "rows copied", "approximated", "left out", "last error"
    )
    for s in list_sources(_where(config_file)[0]):
        f = s.figures
        table.add_row(
            s.name,
            s.url,
            f"{s.refreshed_at:%Y-%m-%d %H:%M}" if s.refreshed_at else "-",
            str(f.get("tables", 0)),
            f"{f.get('rows_copied', 0)} of {f.get('rows_present', 0)}",
            str(f.get("approximated_columns", 0)),
            str(f.get("unreadable_tables", 0)),
            s.last_error or "-",
        )
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
