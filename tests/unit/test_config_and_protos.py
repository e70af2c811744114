"""Typed configuration and the committed gRPC stubs."""

from __future__ import annotations

import filecmp
import os

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


def test_every_resolved_setting_reaches_the_services_a_local_stack_starts(monkeypatch):
    """`sqldistill up --config FILE`: the children read the environment LocalStack gives them, so every
    setting the CLI resolved - not only ports and paths - must travel (a file's generation.model once
    did not, and the services ran on their defaults)."""
    from cli.local_stack import _config_env
    from shared.config import Config, load_config

    for key in [k for k in os.environ if k.startswith("SQLDISTILL_")]:
        monkeypatch.delenv(key)
    resolved = load_config(
        generation={"model": "/models/mine", "precision": "int8"},
        critic={"workers": 3},
        paths={"model_roots": ["/a", "/b"]},
        controller={"record_asks": False},
        dataset="/data/mine",
    )
    for key, value in _config_env(resolved).items():
        monkeypatch.setenv(key, value)
    child = Config()
    expected = resolved.model_dump(mode="json") | {"store_url": resolved.resolved_store_url}
    assert child.model_dump(mode="json") == expected
