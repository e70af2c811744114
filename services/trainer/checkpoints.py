"""Training checkpoints: written whole or not at all, off the step loop, and read back on resume."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any


def _trainable_state(model: Any) -> dict[str, Any]:
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}  # copied by _to_host


class CheckpointWriter:
    """Checkpoints written on a background thread: the step loop pays only for copying the trainable
    weights, optimizer and scheduler state to host memory (full fine-tuning of a 1.5B model holds
    about 18 GB of optimizer state, which took the loop out of training while it was written). One
    write at a time; each lands whole (a temp folder renamed into place) or not at all."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> None:
        import torch

        self.wait()
        snapshot = _to_host(
            {
                "trainable": _trainable_state(model),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng_torch": torch.get_rng_state(),
                "rng_python": random.getstate(),
                **state,
            }
        )
        self._thread = threading.Thread(target=self._write, args=(snapshot,), name="checkpoint")
        self._thread.start()

    def wait(self) -> None:
        """Block until the write in flight (if any) is on disk; re-raise its error."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _write(self, snapshot: dict[str, Any]) -> None:
        import torch

        try:
            tmp = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=self.work_dir))
            torch.save(snapshot, tmp / "state.pt")
            final = self.work_dir / "checkpoint"
            old = self.work_dir / ".checkpoint-old"
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException as exc:  # reported by the next wait()
            self._error = exc


def _to_host(value: Any) -> Any:
    """A copy with every tensor in host memory: the optimizer updates its state in place, so the
    background write must not hold references to the live tensors."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_host(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v) for v in value)
    return value


def load_checkpoint(work_dir: Path, model: Any, optimizer: Any, scheduler: Any) -> dict[str, Any] | None:
    import torch

    path = work_dir / "checkpoint" / "state.pt"
    if not path.is_file():
        return None
    state = torch.load(path, weights_only=False)
    model.load_state_dict(state.pop("trainable"), strict=False)
    optimizer.load_state_dict(state.pop("optimizer"))
    scheduler.load_state_dict(state.pop("scheduler"))
    torch.set_rng_state(state.pop("rng_torch"))
    random.setstate(state.pop("rng_python"))
    return state
