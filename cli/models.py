"""The model commands of `sqldistill`: the lineage of model versions, and rolling back to one."""

from __future__ import annotations

import getpass
import socket
from typing import Annotated, Any

import grpc
import typer
from rich.tree import Tree

from cli.connect import ConfigOption, controller_stub
from cli.format import accuracy_text, status_text
from cli.watch import console, fail
from shared.pb import controller_pb2


def models(config_file: ConfigOption = None) -> None:
    """Model versions as a lineage tree, with accuracy and which one serves."""
    stub = controller_stub(config_file, read_only=True)
    versions = list(stub.ListModels(controller_pb2.ListModelsRequest()).models)
    children: dict[str, list[Any]] = {}
    for v in versions:
        children.setdefault(v.parent, []).append(v)

    def label(v: Any) -> str:
        colour = {"serving": "green", "rejected": "red", "retired": "dim"}.get(
            status_text(v.status), "yellow"
        )
        acc = (
            f" EX {accuracy_text(v.accuracy)}"
            + (f" TS {v.accuracy.test_suite:.3f}" if v.accuracy.test_suite else "")
            + f" ({v.few_shot_k}-shot prompt)"
            if v.accuracy.total
            else ""
        )
        return (
            f"[{colour}]{v.version}[/{colour}] {status_text(v.status)}{acc}"
            + (f" (run {v.run_id} round {v.round})" if v.run_id else "")
            + asked_text(v.asked)
        )

    tree = Tree("model versions")

    def add(node: Any, parent: str) -> None:
        for v in children.get(parent, []):
            add(node.add(label(v)), v.version)

    add(tree, "")
    console.print(tree)


def asked_text(asked: Any) -> str:
    """What the question log says of a version: its answers to people, their feedback, and EX on the
    log's held-out questions with a person's SQL."""
    parts = []
    if asked.answered:
        parts.append(
            f"answered {asked.answered} asks, {asked.executable:.0%} ran, agreement {asked.agreement:.2f}, "
            f"marked {asked.marked_right} right / {asked.marked_wrong} wrong"
        )
    if asked.log_questions:
        parts.append(f"EX {asked.log_execution:.3f} on {asked.log_questions} held-out log questions")
    return f"; {'; '.join(parts)}" if parts else ""


def rollback(
    version: str,
    force: Annotated[bool, typer.Option(help="serve a version the gate rejected or never evaluated")] = False,
    config_file: ConfigOption = None,
) -> None:
    """Serve an earlier model version again (one that passed the gate, unless --force)."""
    request = controller_pb2.RollBackRequest(
        version=version, force=force, requested_by=f"{getpass.getuser()}@{socket.gethostname()}"[:128]
    )
    try:
        result = controller_stub(config_file).RollBack(request, timeout=900)
    except grpc.RpcError as exc:
        fail(exc)
    console.print(f"{result.version} is {status_text(result.status)}")


def register(app: typer.Typer) -> None:
    app.command()(models)
    app.command()(rollback)
