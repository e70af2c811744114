"""Where the default dataset lives when the user names none: the bundled benchmark, built on first use."""

from __future__ import annotations

from pathlib import Path

from shared.config import Config


def bundled_dataset_path(config: Config) -> Path:
    return Path(config.home) / "bundled"


def default_dataset(config: Config) -> Path:
    """The bundled benchmark (Spider format) under home; built, or rebuilt when stale, on first use."""
    from shared.bundled.build import ensure_built

    return ensure_built(bundled_dataset_path(config))
