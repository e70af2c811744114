"""The generation service's model slots: the serving model, and a work slot beside it (a candidate
under evaluation, a run's teacher), so that what serves never changes except by a rollout."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.generation.backends import Backend, ModelInfo, ModelSpec
from shared.confine import Roots, check_name
from shared.errors import FailedPrecondition, InvalidArgument
from shared.limits import GENERATION_PRECISIONS

SERVING, WORK = "serving", "work"
SLOTS = (SERVING, WORK)


class ModelSlots:
    """The backend of each slot; a load names a model inside the allowed roots (packaged models,
    paths under them, allowed hub ids) and replaces what that slot holds."""

    def __init__(
        self,
        serving: Backend,
        work_backend: Callable[[ModelSpec], Backend] | None = None,
        roots: Roots | None = None,
    ) -> None:
        self._slots: dict[str, Backend] = {SERVING: serving}
        self._work_backend = work_backend  # builds the work slot's backend on its first load
        self._lock = threading.Lock()
        self.roots = roots or Roots()

    def get(self, slot: str) -> Backend:
        if slot not in SLOTS:
            raise InvalidArgument(f"slot must be one of {', '.join(SLOTS)}, got {slot!r}")
        backend = self._slots.get(slot)
        if backend is None:
            raise FailedPrecondition(f"no model is loaded in the {slot} slot; LoadModel one first")
        return backend

    def load(self, spec: ModelSpec, slot: str = SERVING) -> ModelInfo:
        if not spec.path and not spec.version:
            raise InvalidArgument("model.path (or model.version) is required")
        check_name(spec.version, "model.version", required=False)
        if spec.precision and spec.precision not in GENERATION_PRECISIONS:
            raise InvalidArgument(
                f"precision must be one of {', '.join(GENERATION_PRECISIONS)} (or unset), got {spec.precision!r}"
            )
        spec = ModelSpec(
            self.roots.model(spec.path, "model.path"),
            self.roots.adapter(spec.adapter_path, "model.adapter_path"),
            spec.version,
            spec.precision,
        )
        if slot not in SLOTS:
            raise InvalidArgument(f"slot must be one of {', '.join(SLOTS)}, got {slot!r}")
        with self._lock:  # one load at a time, so two callers never build two work backends
            backend = self._slots.get(slot)
            if backend is not None:
                return backend.load(spec)
            if self._work_backend is None:
                raise FailedPrecondition(f"this generation service has no {slot} slot")
            self._slots[slot] = self._work_backend(spec)
            return self._slots[slot].info()

    def describe(self, slot: str = SERVING) -> ModelInfo:
        return self.get(slot).info()
