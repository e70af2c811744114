"""`sqldistill export`: a model version as the serving engines take it (offline/export.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.connect import ConfigOption
from cli.consoles import make_console
from offline.export import DTYPES, GGUF_TYPES


def register(app: typer.Typer) -> None:
    console = make_console()

    @app.command(name="export")
    def export_command(
        version: Annotated[str, typer.Argument(help="A version id, a version folder, or a model.")],
        fmt: Annotated[str, typer.Option("--format", help="merged | adapter | gguf")] = "merged",
        out: Annotated[Path, typer.Option(help="Folder to write (new or empty).")] = Path("export"),
        dtype: Annotated[str, typer.Option(help="merged: bf16 or fp32 weights.")] = DTYPES[0],
        gguf_type: Annotated[str, typer.Option(help="gguf: f16 or q8_0.")] = GGUF_TYPES[0],
        config_file: ConfigOption = None,
    ) -> None:
        """Export a version for serving engines: merged weights, its adapter, or a GGUF file."""
        from offline.export import export
        from offline.models import resolve_eval_model
        from shared.config import load_config

        config = load_config(config_file)
        try:
            model = resolve_eval_model(version, config.resolved_store_url, None, config.paths.hub_allow)
            with console.status(f"exporting {model.label} as {fmt}..."):
                folder = export(model, fmt, out, config, dtype, gguf_type)
        except (ValueError, OSError) as exc:  # ExportError and UnknownModel are ValueErrors
            console.print(f"[red]{exc}[/red]", soft_wrap=True)
            raise typer.Exit(2) from None
        console.print(f"{model.label} exported ({fmt}) to {folder}; see {folder / 'README.md'}")
