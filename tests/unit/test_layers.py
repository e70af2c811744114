"""The layer order of ARCHITECTURE.md, enforced: cli/ above offline/ above services/ above shared/;
no arrow up, services reach each other only over gRPC (never by importing one another's modules),
the CLI runs service code only through the offline library, and no test imports another test
module (shared helpers live in tests/support and testbed/)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(folder: str, allowed) -> list[str]:
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for name in _imports(path):
            if not allowed(path, name):
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


ABOVE_SERVICES = ("cli", "offline", "testbed", "benchmarks", "tests")


def test_shared_imports_nothing_above_it():
    above = ("services", *ABOVE_SERVICES)
    assert _violations("shared", lambda _p, name: name.split(".")[0] not in above) == []


def test_offline_imports_neither_the_cli_nor_tests():
    assert (
        _violations(
            "offline", lambda _p, name: name.split(".")[0] not in ("cli", "testbed", "benchmarks", "tests")
        )
        == []
    )


def test_services_never_import_the_cli_nor_each_other():
    def allowed(path: Path, name: str) -> bool:
        top = name.split(".")
        if top[0] in ABOVE_SERVICES:
            return False
        own = path.relative_to(REPO / "services").parts[0]
        return top[0] != "services" or len(top) < 2 or top[1] == own

    assert _violations("services", allowed) == []


def test_the_checker_sees_an_upward_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom services.critic.logic import Critic\nfrom . import sibling\n")
    assert _imports(sample) == {"os", "services.critic.logic"}


# The CLI module that may import service code (ARCHITECTURE.md): `serve` (main.py) starts the
# services. Everything else in process goes through offline/; every other command is a client only.
IN_PROCESS_CLI = {"main.py"}


def _all_imports(path: Path) -> set[str]:
    """Module names imported anywhere in the file, function bodies included."""
    names = _imports(path)
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant):
                names.add(arg.value)
    return names


def test_cli_client_commands_import_no_service_module():
    found = [
        f"{path.name} imports {name}"
        for path in sorted((REPO / "cli").glob("*.py"))
        if path.name not in IN_PROCESS_CLI
        for name in _all_imports(path)
        if name.split(".")[0] == "services"
    ]
    assert found == []


def test_no_test_imports_another_test_module():
    """Tests share helpers through tests/support (fixtures, fakes) and testbed (real parts that
    benchmarks use too), never by importing one another."""
    found = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / "tests").rglob("*.py"))
        for name in _all_imports(path)
        if name.startswith("tests.") and not name.startswith("tests.support")
    ]
    assert found == []


def test_benchmarks_use_only_public_code():
    """No benchmark imports a test module or patches production classes to run an ablation."""
    found = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / "benchmarks").rglob("*.py"))
        for name in _all_imports(path)
        if name.split(".")[0] in ("tests", "unittest", "mock")
    ]
    assert found == []
