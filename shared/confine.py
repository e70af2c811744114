"""RPC fields that name things on disk are untrusted: names must be plain, paths must resolve
(symlinks included) inside the roots a service was configured with, and model references must be
something the operator allowed. Every refusal is InvalidArgument with a message that names the
field and the rule, never a fact about the file system (whether a path exists, what it points to).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shared.errors import InvalidArgument
from shared.model_refs import is_default_model

if TYPE_CHECKING:
    from shared.config import Config

NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
MAX_PATH_CHARS = 4096


def check_name(value: str, field: str, required: bool = True) -> str:
    """A version, run or job name that becomes one path component: [A-Za-z0-9._-]{1,128}, not . or .."""
    if not value and not required:
        return value
    if not NAME.fullmatch(value or "") or value in (".", ".."):
        raise InvalidArgument(f"{field} must match [A-Za-z0-9._-]{{1,128}} (and not be . or ..)")
    return value


def confined(value: str, roots: Iterable[Path | str], field: str) -> Path:
    """The path value names, resolved with symlinks, if it lies inside one of roots."""
    if not value or len(value) > MAX_PATH_CHARS or "\x00" in value:
        raise InvalidArgument(f"{field} must be a path of 1 to {MAX_PATH_CHARS} characters without NUL")
    resolved = Path(os.path.realpath(value))
    for root in roots:
        if resolved.is_relative_to(os.path.realpath(root)):
            return resolved
    raise InvalidArgument(f"{field} must lie inside the service's configured roots")


def hub_allowed(value: str, hub_allow: Sequence[str]) -> bool:
    """A hub id the operator allowed: listed exactly, or its organisation as "org/*"."""
    return bool(HUB_ID.fullmatch(value)) and (
        value in hub_allow or f"{value.split('/', 1)[0]}/*" in hub_allow
    )


def check_model_reference(
    value: str,
    field: str,
    packaged: Iterable[str],
    roots: Sequence[Path | str],
    hub_allow: Sequence[str] = (),
) -> str:
    """A model (or adapter) reference: a packaged name or "default", a path inside roots, or a hub id
    the operator allowed (an exact id, or "org/*" for an organisation)."""
    if is_default_model(value) or value in set(packaged):
        return value
    if HUB_ID.fullmatch(value):
        if hub_allowed(value, hub_allow):
            return value
        raise InvalidArgument(f"{field}: hub id {value!r} is not on the configured allow-list")
    if not os.path.isabs(value):
        raise InvalidArgument(
            f"{field} must be a packaged model name, an absolute path inside the model roots, "
            "or an allowed hub id"
        )
    return str(confined(value, roots, field))


@dataclass(frozen=True)
class Roots:
    """A service's confinement: where models and datasets named in requests may lie."""

    models: tuple[Path, ...] = ()
    datasets: tuple[Path, ...] = ()
    hub_allow: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> Roots:
        return cls(tuple(config.model_roots), tuple(config.dataset_roots), tuple(config.paths.hub_allow))

    def model(self, value: str, field: str) -> str:
        from shared.packaged_models import PACKAGED_MODELS

        return check_model_reference(value, field, PACKAGED_MODELS, self.models, self.hub_allow)

    def adapter(self, value: str, field: str) -> str:
        return str(confined(value, self.models, field)) if value else ""

    def dataset(self, value: str, field: str) -> Path:
        return confined(value, self.datasets, field)
