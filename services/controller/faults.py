"""Fault injection for the crash-recovery tests: SQLDISTILL_CRASH_AT=<point>[,<point>...] makes the
controller SIGKILL itself (what `kill -9` sends) when it reaches a named point. With
SQLDISTILL_CRASH_DIR set, each point fires once (a marker file remembers it), so a restarted
controller runs on through it. SQLDISTILL_FAIL_AT=<point>[,...] instead makes the step raise
InjectedFault there every time (a step that keeps failing). Off unless the variables are set."""

from __future__ import annotations

import os
import signal
from pathlib import Path


class InjectedFault(RuntimeError):
    """Raised at a SQLDISTILL_FAIL_AT point."""


def crash_point(name: str) -> None:
    if name in os.environ.get("SQLDISTILL_FAIL_AT", "").split(","):
        raise InjectedFault(f"fault injected at {name}")
    wanted = os.environ.get("SQLDISTILL_CRASH_AT", "")
    if not wanted or name not in wanted.split(","):
        return
    marker_dir = os.environ.get("SQLDISTILL_CRASH_DIR")
    if marker_dir:
        marker = Path(marker_dir) / name
        if marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    os.kill(os.getpid(), signal.SIGKILL)
