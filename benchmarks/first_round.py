"""A run spec's first-round candidates, to show that a change leaves them as they were: starts the
four real services of the tree it runs in (on free loopback ports, home HOME), runs GENERATE of
round 1, stops the run and writes the stored candidates, sorted, as JSON. Run it in the tree before
a change (a git worktree) and in the tree after, with the same spec, and compare the two files.

    python -m benchmarks.first_round cli/demo.yaml OUT.json HOME   (in an older tree: by its path)
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from sqlalchemy import select

try:
    from cli.local_stack import LocalStack
except ImportError:  # a tree from before these modules had their names (294fba6 and older)
    from cli.stack import LocalStack  # type: ignore[no-redef]
try:
    from shared.run_spec import build_run_spec
except ImportError:
    from cli.runs import build_run_spec  # type: ignore[no-redef]
from shared.config import load_config
from shared.grpc_client import make_channel
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.store import Candidate, Round, Store


def main() -> None:
    spec_path, out, home = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    os.environ["SQLDISTILL_HOME"] = str(home)

    for name in ("critic", "generation", "trainer", "controller"):
        for key in ("PORT", "METRICS_PORT"):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                os.environ[f"SQLDISTILL_SERVICES__{name.upper()}__{key}"] = str(sock.getsockname()[1])
    config = load_config()
    stack = LocalStack(config)
    try:
        stack.start(timeout=900)
        started = time.time()
        stub = controller_pb2_grpc.ControllerServiceStub(make_channel(config.target("controller")))
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=build_run_spec(spec_path, {})))
        store = Store.open(config.resolved_store_url)
        while True:
            with store.session() as s:
                rnd = s.scalar(select(Round).where(Round.run_id == run.run_id, Round.number == 1))
                step = rnd.step if rnd else "GENERATE"
            if step != "GENERATE":
                break
            time.sleep(5)
        stub.StopRun(controller_pb2.RunRef(run_id=run.run_id))
        with store.session() as s:
            rows = [
                {
                    "key": c.key,
                    "db_id": c.db_id,
                    "question": c.question,
                    "sql": c.sql,
                    "source": c.source,
                    "hardness": c.hardness,
                    "model_version": c.model_version,
                    "resampled_sql": c.resampled_sql,
                }
                for c in s.scalars(select(Candidate).where(Candidate.run_id == run.run_id))
            ]
        rows.sort(key=lambda r: (r["db_id"], r["question"], r["sql"], r["key"]))
        out.write_text(
            json.dumps(
                {"run": run.run_id, "seconds": round(time.time() - started), "candidates": rows}, indent=1
            )
        )
        print(f"{len(rows)} candidates in {time.time() - started:.0f} s -> {out}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
