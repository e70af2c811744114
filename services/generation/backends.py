"""What every model backend is and says: the Backend interface, the model spec it loads and the info
it reports. The backends: transformers_backend.py (in process, the default), tgi_backend.py and
openai_backend.py (server-backed, how production serves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from services.generation.constraint import Constraint
from shared.sampling import Sampling


@dataclass(frozen=True)
class ModelSpec:
    """What to serve: a model folder / hub id (or a packaged default), optionally a LoRA adapter."""

    path: str = ""
    adapter_path: str = ""
    version: str = ""
    precision: str = ""  # "" = the backend's own (a work-slot load may ask another, e.g. int8 sampling)


@dataclass
class ModelInfo:
    version: str = ""
    path: str = ""
    adapter_path: str = ""
    backend: str = ""
    device: str = "cpu"
    precision: str = ""
    num_parameters: int = 0
    context_window: int = 0
    reviews: bool = False  # scores SQL for the label review (Generator.review)
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    # The grammar strengths this backend can hold its output to (shared.limits.CONSTRAIN_MODES).
    constrain_modes: tuple[str, ...]

    def generate(
        self,
        prompts: list[str],
        n: int,
        sampling: Sampling,
        constraints: list[Constraint | None] | None = None,
    ) -> list[list[str]]:
        """n completions for each prompt (prompt text excluded), cut at the stop sequences; with
        constraints (one per prompt), each prompt's completions held to its grammar."""

    def count_tokens(self, text: str) -> int: ...

    def load(self, spec: ModelSpec) -> ModelInfo: ...

    def info(self) -> ModelInfo: ...
