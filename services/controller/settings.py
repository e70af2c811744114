"""A run's settings: the RunSpec message with defaults filled in, stored as JSON with the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shared.pb import controller_pb2

MODES = ("self_instruct", "labelled", "both")
GATE_MODES = ("margin", "significant")


@dataclass
class RunSettings:
    name: str = ""
    db_ids: list[str] = field(default_factory=list)
    mode: str = "both"
    base_model: str = ""  # path / hub id / packaged name; "" = the default
    rounds: int = 2  # 0 = continuous
    candidates_per_db: int = 8
    samples_per_question: int = 4
    complexity_mix: dict[str, float] = field(default_factory=dict)
    test_suite: bool = True
    test_suite_variants: int = 10
    consistency_samples: int = 2
    train_method: str = "lora"
    # From the base on the accumulated data each round (as ReST-EM does: no drift), or from the parent.
    train_from_parent: bool = False
    eval_split: str = "dev"
    gate_margin: float = 0.0
    seed: int = 0
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 128
    questions_per_round: int = 0
    eval_limit: int = 0
    train_max_steps: int = 0
    learning_rate: float = 0.0
    few_shot_k: int = 2  # shots in the base model's prompt
    train_few_shot_k: int = 0  # shots in training prompts = the trained versions' prompt
    accumulate: bool = True  # round r trains on the kept pairs of rounds 1..r
    max_sql_per_question: int = 2  # distinct kept SQL per question in a training set
    teacher_model: str = ""  # "" = the serving version writes the candidates
    gate_mode: str = "margin"  # margin | significant
    gate_alpha: float = 0.05
    train_epochs: int = 1
    train_on_seed: bool = True  # the few-shot seed examples join every training set

    @classmethod
    def from_message(cls, spec: controller_pb2.RunSpec) -> RunSettings:
        defaults = cls()
        sampling = spec.sampling
        return cls(
            name=spec.name,
            db_ids=list(spec.db_ids),
            mode=spec.mode or defaults.mode,
            base_model=spec.base_model.path,
            rounds=spec.rounds,  # 0 = continuous
            candidates_per_db=spec.candidates_per_db or defaults.candidates_per_db,
            samples_per_question=spec.samples_per_question or defaults.samples_per_question,
            complexity_mix=dict(spec.complexity_mix),
            test_suite=spec.test_suite,
            test_suite_variants=spec.test_suite_variants or defaults.test_suite_variants,
            consistency_samples=spec.consistency_samples,
            train_method=spec.train_method or defaults.train_method,
            train_from_parent=spec.train_from_parent,
            eval_split=spec.eval_split or defaults.eval_split,
            gate_margin=spec.gate_margin,
            seed=spec.seed,
            temperature=sampling.temperature if spec.HasField("sampling") else defaults.temperature,
            top_p=sampling.top_p or defaults.top_p,
            max_new_tokens=sampling.max_new_tokens or defaults.max_new_tokens,
            questions_per_round=spec.questions_per_round,
            eval_limit=spec.eval_limit,
            train_max_steps=spec.train_max_steps,
            learning_rate=spec.learning_rate,
            few_shot_k=spec.few_shot_k or defaults.few_shot_k,
            train_few_shot_k=spec.train_few_shot_k
            if spec.HasField("train_few_shot_k")
            else defaults.train_few_shot_k,
            accumulate=spec.accumulate if spec.HasField("accumulate") else defaults.accumulate,
            max_sql_per_question=spec.max_sql_per_question or defaults.max_sql_per_question,
            teacher_model=spec.teacher_model.path,
            gate_mode=spec.gate_mode or defaults.gate_mode,
            gate_alpha=spec.gate_alpha or defaults.gate_alpha,
            train_epochs=spec.train_epochs or defaults.train_epochs,
            train_on_seed=spec.train_on_seed if spec.HasField("train_on_seed") else defaults.train_on_seed,
        )

    def to_message(self) -> controller_pb2.RunSpec:
        from shared.pb import common_pb2

        return controller_pb2.RunSpec(
            name=self.name,
            db_ids=self.db_ids,
            mode=self.mode,
            base_model=common_pb2.ModelRef(path=self.base_model),
            rounds=self.rounds,
            candidates_per_db=self.candidates_per_db,
            samples_per_question=self.samples_per_question,
            complexity_mix=self.complexity_mix,
            test_suite=self.test_suite,
            test_suite_variants=self.test_suite_variants,
            consistency_samples=self.consistency_samples,
            train_method=self.train_method,
            train_from_parent=self.train_from_parent,
            eval_split=self.eval_split,
            gate_margin=self.gate_margin,
            seed=self.seed,
            sampling=common_pb2.SamplingParams(
                temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens
            ),
            questions_per_round=self.questions_per_round,
            eval_limit=self.eval_limit,
            train_max_steps=self.train_max_steps,
            learning_rate=self.learning_rate,
            few_shot_k=self.few_shot_k,
            train_few_shot_k=self.train_few_shot_k,
            accumulate=self.accumulate,
            max_sql_per_question=self.max_sql_per_question,
            teacher_model=common_pb2.ModelRef(path=self.teacher_model),
            gate_mode=self.gate_mode,
            gate_alpha=self.gate_alpha,
            train_epochs=self.train_epochs,
            train_on_seed=self.train_on_seed,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
