"""Typed configuration and the committed gRPC stubs."""

from __future__ import annotations

import filecmp

import pytest
from pydantic import ValidationError

from protos.compile import DEFAULT_OUT, generate
from shared.config import load_config


def test_defaults_file_and_environment_layer(tmp_path, monkeypatch):
    monkeypatch.delenv("SQLDISTILL_CONFIG", raising=False)
    assert load_config().critic.timeout_ms == 2000
    config_file = tmp_path / "config.yaml"
    config_file.write_text("critic:\n  timeout_ms: 500\n  workers: 3\nservices:\n  critic:\n    port: 6000\n")
    config = load_config(config_file)
    assert (config.critic.timeout_ms, config.critic.workers, config.target("critic")) == (
        500,
        3,
        "127.0.0.1:6000",
    )
    monkeypatch.setenv("SQLDISTILL_CRITIC__WORKERS", "7")
    config = load_config(config_file)
    assert (config.critic.timeout_ms, config.critic.workers) == (500, 7)  # env wins, file value kept
    monkeypatch.setenv("SQLDISTILL_CONFIG", str(config_file))
    assert load_config().critic.timeout_ms == 500


def test_bad_config_is_rejected_with_the_field_named(tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("critic:\n  timeout_ms: soon\n")
    with pytest.raises(ValidationError, match="timeout_ms"):
        load_config(config_file)
    config_file.write_text("no_such_setting: 1\n")
    with pytest.raises(ValidationError, match="no_such_setting"):
        load_config(config_file)
    config_file.write_text("- a list\n")
    with pytest.raises(ValueError, match="mapping"):
        load_config(config_file)


def test_store_url_credentials_are_redacted():
    config = load_config(store_url="postgresql://user:secret@db:5432/sqldistill")
    assert config.redacted()["store_url"] == "postgresql://***@db:5432/sqldistill"


def test_committed_stubs_match_the_protos(tmp_path):
    generate(tmp_path / "pb")
    fresh = tmp_path / "pb" / "sqldistill" / "v1"
    committed = DEFAULT_OUT / "sqldistill" / "v1"
    names = sorted(p.name for p in fresh.iterdir() if p.is_file())
    assert names == sorted(
        p.name for p in committed.iterdir() if p.is_file() and p.suffix in (".py", ".pyi", ".json")
    )
    _, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
    assert not mismatch and not errors, f"run `make protos`: stale stubs {mismatch + errors}"
