"""What an empty model reference means, decided once: a run, a version or a request that names no
base model means the packaged default, written DEFAULT_MODEL_ALIAS wherever a name must be shown or
sent."""

from __future__ import annotations

from shared.defaults import DEFAULT_MODEL_ALIAS


def model_path(path: str) -> str:
    """The reference to send or show: "" becomes the default model's alias."""
    return path or DEFAULT_MODEL_ALIAS


def is_default_model(path: str) -> bool:
    return path in ("", DEFAULT_MODEL_ALIAS)


def stored_base(path: str) -> str:
    """The reference to store or load by path: the alias becomes "" (the packaged default)."""
    return "" if is_default_model(path) else path
