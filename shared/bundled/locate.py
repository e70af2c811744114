"""Where the default dataset lives when the user names none: the bundled benchmark, built on first use."""

from __future__ import annotations

import logging
from pathlib import Path

from shared.config import Config

log = logging.getLogger("sqldistill.dataset")


def bundled_dataset_path(config: Config) -> Path:
    return Path(config.home) / "bundled"


def default_dataset(config: Config) -> Path:
    """The bundled benchmark (Spider format) under home; built, or rebuilt when stale, on first use."""
    from shared.bundled.build import build, is_current

    path = bundled_dataset_path(config)
    if not is_current(path):
        log.info("building the bundled databases into %s", path)
        build(path)
    return path
