"""The run spec the controller tests start from: a valid two-round run over two training databases
of the bundled benchmark, small enough for the scripted stack, with any field overridden."""

from __future__ import annotations

from pathlib import Path

from shared.pb import common_pb2, controller_pb2
from shared.pbconvert import enum_number


def run_spec(base_model: str | Path, **overrides) -> controller_pb2.RunSpec:
    fields = dict(
        name="test",
        db_ids=["library", "clinic"],
        mode="both",
        base_model=common_pb2.ModelRef(path=str(base_model)),
        rounds=2,
        candidates_per_db=2,
        samples_per_question=1,
        test_suite=False,
        consistency_samples=1,
        train_method="lora",
        train_from_parent=True,
        eval_split="dev",
        gate_margin=0.0,
        seed=3,
        questions_per_round=6,
        eval_limit=6,
        train_max_steps=4,
        few_shot_k=1,
    )
    fields.update(overrides)
    if isinstance(fields["mode"], str):  # the proto's RunMode, from its word
        fields["mode"] = enum_number(controller_pb2.RunMode, fields["mode"])
    return controller_pb2.RunSpec(**fields)
