"""Every `sqldistill` command with no service running, as a user meets it after the stack stopped:
the read commands answer from the store (real SQLite file), the others print one line naming the
controller's address and how to start it. Never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from shared.config import REPO_ROOT as REPO
from shared.store import ModelVersion, Run, Store
from testbed.processes import free_port


def _home_env(tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "SQLDISTILL_HOME": str(tmp_path / "home"),
        "SQLDISTILL_SERVICES__CONTROLLER__PORT": str(free_port()),  # nothing listens there
        "COLUMNS": "200",
    }


def _all(commands: list[list[str]], env: dict[str, str]) -> dict[str, subprocess.CompletedProcess]:
    """Run the commands at once (each is a fresh interpreter)."""
    started = {
        " ".join(c): subprocess.Popen(
            [sys.executable, "-m", "cli.main", *c],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in commands
    }
    done = {}
    for key, process in started.items():
        out, err = process.communicate(timeout=120)
        done[key] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


WRITE_COMMANDS = [
    ["run", "--rounds", "1"],
    ["stop", "r1"],
    ["pause", "r1"],
    ["resume", "r1"],
    ["rollback", "v1"],
]
READ_COMMANDS = [["runs"], ["rounds", "r1"], ["models"], ["report", "r1", "--out", "REPORT"]]


def test_every_command_without_the_stack_is_one_line_or_reads_the_store(tmp_path):
    env = _home_env(tmp_path)
    target = f"127.0.0.1:{env['SQLDISTILL_SERVICES__CONTROLLER__PORT']}"
    report_dir = str(tmp_path / "report")
    reads = [[report_dir if a == "REPORT" else a for a in c] for c in READ_COMMANDS]

    # Nothing has run here yet: no store either, and none is created by looking.
    results = _all([*WRITE_COMMANDS, *reads, ["status"]], env)
    for key, result in results.items():
        both = result.stdout + result.stderr
        assert "Traceback" not in both, (key, both)
        if key == "status":
            assert result.returncode == 1 and "UNAVAILABLE" in result.stdout
            continue
        assert result.returncode == 1, (key, both)
        assert target in result.stdout and "sqldistill up" in result.stdout, (key, both)
        assert len(result.stdout.strip().splitlines()) <= 3, (key, both)  # one message (rich may wrap it)
    assert not (tmp_path / "home" / "store.db").exists()

    # A store from an earlier session: the read commands answer from it, and say so on stderr.
    with Store.open(f"sqlite:///{tmp_path / 'home' / 'store.db'}").session() as s:
        s.add(Run(id="r1", name="earlier", lineage="default", spec={"rounds": 1}, state="completed"))
        s.add(ModelVersion(version="base-default", base="default", artifact_path="", status="serving"))
    results = _all([*reads, ["rounds", "no-such-run"], ["pause", "r1"]], env)
    for key, result in results.items():
        assert "Traceback" not in result.stdout + result.stderr, (key, result.stdout + result.stderr)
    assert results["runs"].returncode == 0 and "earlier" in results["runs"].stdout
    assert f"controller at {target} is not running" in results["runs"].stderr
    assert "base-default" in results["models"].stdout and "serving" in results["models"].stdout
    assert results["rounds r1"].returncode == 0 and "rounds of run r1" in results["rounds r1"].stdout
    assert results[" ".join(reads[-1])].returncode == 0 and (tmp_path / "report" / "report.md").is_file()
    missing = results["rounds no-such-run"]
    assert missing.returncode == 1 and "NOT_FOUND: no run 'no-such-run'" in missing.stdout
    assert results["pause r1"].returncode == 1 and "not reachable" in results["pause r1"].stdout
