"""`make demo`: start the stack on this machine, run the distillation in cli/demo.yaml on the
bundled databases with the default model on CPU, print the rounds and write the report. Sized to
finish in about 55 minutes on 2 cores (docs/benchmarks.md, "Demo figures")."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli.format import mode_text
from cli.local_stack import LocalStack
from cli.report import build_report
from cli.watch import console, show_rounds, watch_run
from shared.config import load_config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.run_spec import build_run_spec

DEMO_SPEC = Path(__file__).with_name("demo.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/demo-report"))
    parser.add_argument("--spec", type=Path, default=DEMO_SPEC, help="YAML run spec (RunSpec fields)")
    args = parser.parse_args()
    config = load_config()
    stack = LocalStack(config)
    started = time.monotonic()
    try:
        with console.status(
            "starting the four services (the first start converts the default model once)..."
        ):
            stack.start(timeout=900)
        console.print(
            f"services up in {time.monotonic() - started:.0f}s; logs in {Path(config.home) / 'logs'}"
        )
        stub = DeadlineStub(
            controller_pb2_grpc.ControllerServiceStub(make_channel(config.target("controller"))), 60
        )
        spec = build_run_spec(args.spec, {})
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec))
        console.print(
            f"run {run.run_id}: {run.spec.rounds} round(s), {mode_text(run.spec.mode)}, "
            f"{run.spec.questions_per_round} questions x {run.spec.samples_per_question} samples per round, "
            f"evaluated on {run.spec.eval_limit or 'all'} held-out questions (spec: {args.spec})"
        )
        watch_run(stub, run.run_id)
        show_rounds(stub, run.run_id)
        report = build_report(stub, run.run_id, args.out)
        console.print(f"report: {report}  (took {(time.monotonic() - started) / 60:.1f} min)")
    finally:
        with console.status("stopping services..."):
            stack.stop()


if __name__ == "__main__":
    main()
