"""How the CLI reaches the controller: over gRPC when it is running; for the read commands (runs,
rounds, models, report), from the store directly when it is not; otherwise one line that names the
address and how to start the stack - never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.consoles import make_console
from shared.config import Config, load_config
from shared.grpc_client import DeadlineStub, check_health, make_channel
from shared.pb import controller_pb2_grpc

# Every command's --config option: the file load_config reads beneath the environment.
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="sqldistill YAML config file.")]

HEALTH_TIMEOUT_SECONDS = 3.0  # how long a read command waits to learn whether the controller runs
CALL_TIMEOUT_SECONDS = 30.0
START_HINT = "start the stack with `sqldistill up` (or `sqldistill serve controller`)"
notices = make_console(stderr=True)


class Unreachable(Exception):
    """The controller cannot answer and nothing else can: the message is the whole story."""


def controller_stub(config_file: Path | None, *, read_only: bool = False) -> Any:
    """A stub of the running controller; for read_only commands, the store's answers to the same
    calls when the controller is down (a line on stderr says so)."""
    config = load_config(config_file)
    target = config.target("controller")
    channel = make_channel(target)
    state = check_health(channel, timeout=HEALTH_TIMEOUT_SECONDS)
    if state == "SERVING":
        return DeadlineStub(controller_pb2_grpc.ControllerServiceStub(channel), CALL_TIMEOUT_SECONDS)
    channel.close()
    if not read_only:
        raise Unreachable(f"the controller at {target} is not reachable ({state}); {START_HINT}")
    replies = store_replies(config, target)
    notices.print(
        f"[dim]the controller at {target} is not running ({state}): "
        f"reading the store {config.redacted()['store_url'] or replies.queries.store.url} directly[/dim]",
        highlight=False,
    )
    return replies


def store_replies(config: Config, target: str) -> Any:
    """The controller's read side over the configured store, opened without migrating (a read
    changes nothing); Unreachable with how to start the controller when there is none."""
    from offline.store_reading import StoreUnreadable, read_replies

    try:
        return read_replies(config.resolved_store_url)
    except StoreUnreadable as exc:
        raise Unreachable(f"the controller at {target} is not running and {exc}; {START_HINT}") from None
