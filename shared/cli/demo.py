"""`make demo`: start the stack on this machine, run a small labelled + self-instruct distillation
of 2 rounds on the bundled databases with the default model on CPU, print the rounds and write the
report. Sized to finish in well under 30 minutes on 2 cores (see README)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from shared.cli.report import build_report
from shared.cli.runs import console, show_rounds, watch_run
from shared.cli.stack import LocalStack
from shared.config import load_config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import common_pb2, controller_pb2, controller_pb2_grpc

DEMO_SPEC = dict(
    name="demo",
    mode="both",
    rounds=2,
    db_ids=["library", "ecommerce", "school"],
    candidates_per_db=4,
    samples_per_question=4,
    questions_per_round=24,
    consistency_samples=2,
    test_suite=True,
    train_method="lora",
    train_from_parent=True,
    eval_split="dev",
    eval_limit=30,
    gate_margin=0.0,
    seed=0,
    train_max_steps=12,
    learning_rate=3e-4,
    few_shot_k=2,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/demo-report"))
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
        spec = controller_pb2.RunSpec(
            **DEMO_SPEC,
            base_model=common_pb2.ModelRef(path=""),
            sampling=common_pb2.SamplingParams(temperature=0.5, top_p=0.95, max_new_tokens=96),
        )
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec))
        console.print(
            f"run {run.run_id}: {DEMO_SPEC['rounds']} rounds, labelled + self-instruct on {', '.join(DEMO_SPEC['db_ids'])}"
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
