"""A run's settings: the RunSpec message with defaults filled in, stored as JSON with the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from services.controller.enums import Mode
from shared import defaults
from shared.errors import InvalidArgument
from shared.model_refs import stored_base
from shared.pb import controller_pb2
from shared.pbconvert import enum_text, sampling_fields
from shared.run_spec import MODEL_REFS, SAMPLING_FIELDS, run_spec_message
from shared.sampling import Sampling

MODES = tuple(Mode)
GATE_MODES = ("margin", "significant")
GATE_FREE_METHODS = ("review", "vote")
GATE_REVIEWERS = ("serving", "base")
LABEL_REVIEWERS = ("writer", "base")
QUESTION_SOURCES = ("split", "log")

# Defaults only a run applies, with the measurements behind them (docs/benchmarks.md).
GENERATE_PRECISION = (
    "auto"  # a run's GENERATE sampling: int8 on a CPU (as good labels, 1.45x as many a minute)
)
# Question-only labels: a majority label is withheld when SQL outside the majority explains the
# question better - log p(question | SQL), by the writer - by more than the margin (nats). On 96
# questions x 8 samples (0.5B, int8) a 2-nat margin withheld 2 labels, both wrong (precision 0.806 ->
# 0.829), a 1-nat one also a right label (benchmarks/review_labels.py; docs/benchmarks.md).
LABEL_REVIEW = True
LABEL_REVIEW_MARGIN = 2.0
# Who reviews the labels (writer | base): the round's writer, or - whenever a trained version writes
# (from round 2, or on a lineage that already serves one) - the base it was trained from, which
# shares no habit learned from earlier labels. A teacher, trained on no run's labels, reviews itself.
LABEL_REVIEWER = "writer"
# The gold-free gate's judge (review | vote): a pooled vote favours the version whose samples agree
# with themselves (a DPO version's), a review does not (docs/benchmarks.md, "Gold-free gate calibration")
GATE_FREE_METHOD = "review"
# Who reviews in the gold-free gate (serving | base): the base model, trained on no run's labels,
# judges every pair alike, so A over B is B under A. Over 6 versions (30 ordered decisions) it agreed
# with the gold gate on 27 with no rollout gold calls worse; the serving version as reviewer on 24,
# with 2 (docs/benchmarks.md, "Gold-free gate calibration").
GATE_REVIEWER = "base"
# What a run stored before these settings existed ran with (the defaults then).
BEGAN_WITH = {
    "gate_free_method": "vote",
    "gate_reviewer": "serving",
    "label_review": False,  # added off; on by default since
    "generate_precision": "",  # the serving slot's own format
}

# RunSpec fields that are not plain scalars of the same name.
_COLLECTIONS = ("db_ids", "complexity_mix")  # repeated / map: empty = the default


@dataclass
class RunSettings:
    """Every default of a run, in one place: the controller fills whatever a RunSpec leaves unset."""

    name: str = ""
    db_ids: list[str] = field(default_factory=list)
    mode: str = "both"
    base_model: str = ""  # path / hub id / packaged name; "" = the default
    rounds: int = 2
    continuous: bool = False  # run rounds until stopped (rounds is then ignored)
    candidates_per_db: int = 8  # self-instruct pairs asked per database per round
    samples_per_question: int = 8  # SQL sampled per train question (labelled, unlabelled)
    example_sets: int = defaults.EXAMPLE_SETS  # few-shot example sets a question's samples are spread over
    complexity_mix: dict[str, float] = field(default_factory=dict)
    test_suite: bool = True
    consistency_samples: int = 4  # self-instruct: re-answers per generated question (votes with its SQL)
    majority_share: float = defaults.MAJORITY_SHARE
    majority_min_votes: int = defaults.MAJORITY_MIN_VOTES
    train_method: str = defaults.TRAIN_METHOD
    # From the base on the accumulated data each round (as ReST-EM does: no drift), or from the parent.
    train_from_parent: bool = False
    eval_split: str = "dev"
    gate_margin: float = 0.0
    seed: int = 0
    temperature: float = defaults.TEMPERATURE
    top_p: float = defaults.TOP_P
    max_new_tokens: int = defaults.MAX_NEW_TOKENS
    questions_per_round: int = 0
    eval_limit: int = 0
    eval_samples: int = 0  # EVALUATE asks greedy (0) or votes over this many samples
    train_max_steps: int = 0
    learning_rate: float = 0.0  # 0 = the trainer's default (shared/defaults.py)
    few_shot_k: int = defaults.FEW_SHOT_K  # shots in the base model's prompt
    train_few_shot_k: int = 0  # shots in training prompts = the trained versions' prompt
    accumulate: bool = True  # round r trains on the kept pairs of rounds 1..r
    max_sql_per_question: int = 2  # distinct kept SQL per question in a training set
    teacher_model: str = ""  # "" = the serving version writes the candidates
    generate_precision: str = GENERATE_PRECISION  # GENERATE's sampling only ("" = the service's)
    label_review: bool = LABEL_REVIEW  # question-only: withhold labels a losing SQL explains better
    label_review_margin: float = LABEL_REVIEW_MARGIN  # nats
    label_reviewer: str = LABEL_REVIEWER  # writer | base
    gate_mode: str = "margin"  # margin | significant
    gate_alpha: float = 0.05
    gate_gold: bool = True  # gate on the held-out gold; without it (or False): the gold-free gate
    gate_samples: int = 4  # gold-free gate by vote: samples per version per held-out question, pooled
    gate_free_method: str = GATE_FREE_METHOD  # review | vote
    gate_reviewer: str = GATE_REVIEWER  # by review: serving | base
    max_attempts: int = 3  # unlabelled: rounds a question is asked without a majority (0 = no limit)
    repair_attempts: int = (
        defaults.REPAIR_ATTEMPTS
    )  # a sampled SQL that fails is written again with its error
    eval_repair: int = 0  # EVALUATE: repairs of both versions' failing answers (0 = off)
    questions_from: str = "split"  # split | log: where unlabelled questions come from
    log_holdout: float = 0.2  # share of the log's questions held out: never trained, gated on with SQL
    min_new_questions: int = 20  # continuous on the log: new questions that start a round ...
    round_interval_seconds: float = 3600.0  # ... or the time since the last round began that does
    train_epochs: int = defaults.TRAIN_EPOCHS
    train_on_seed: bool = True  # the few-shot seed examples join every training set
    train_batch_size: int = defaults.TRAIN_BATCH_SIZE  # per-device micro-batch of the training job
    train_int8_base: bool = False  # LoRA on a CPU: the frozen base's matmuls in int8 (trainer int8_base.py)
    train_gradient_checkpointing: bool = False  # recompute activations in backward: less memory, more compute
    train_precision: str = defaults.TRAIN_PRECISION  # auto (bf16 on a GPU) | fp32 | bf16; weights stay fp32
    constrain: str = defaults.CONSTRAIN  # off | identifiers | full: SQL held to the database's grammar
    judge_timeout_seconds: float = 600.0  # one JudgeCandidates call (a chunk of candidates)
    evaluate_timeout_seconds: float = 1800.0  # one Evaluate call (the whole held-out set)
    watch_timeout_seconds: float = 3600.0  # one WatchJob stream before it is reopened

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)

    @classmethod
    def from_message(cls, spec: controller_pb2.RunSpec) -> RunSettings:
        """The spec's set fields over the defaults (field presence: an unset field is a default,
        never a zero)."""
        return cls(**_present_fields(spec))

    def sampling(self, seed: int, temperature: float | None = None) -> Sampling:
        """The run's sampling with this seed (at another temperature when given: 0 = greedy)."""
        return Sampling(
            temperature=self.temperature if temperature is None else temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_new_tokens,
            seed=seed,
        )

    def greedy(self) -> Sampling:
        """Greedy decoding within the run's token budget: how a version's one answer is written."""
        return Sampling(temperature=0.0, max_new_tokens=self.max_new_tokens)

    def to_message(self) -> controller_pb2.RunSpec:
        return run_spec_message(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        if "continuous" not in data and data.get("rounds") == 0:  # stored before `continuous` existed
            data = {**data, "continuous": True, "rounds": cls.rounds}
        # a run stored before a setting existed resumes as it began, not on today's default
        data = {**BEGAN_WITH, **data}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _present_fields(spec: controller_pb2.RunSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in RunSettings.__dataclass_fields__:
        if name in MODEL_REFS:
            if spec.HasField(name) and getattr(spec, name).path:
                path = getattr(spec, name).path
                # the default model's alias stored as "", as every version of its lineage stores it
                values[name] = stored_base(path) if name == "base_model" else path
        elif name in SAMPLING_FIELDS:
            carried = sampling_fields(spec.sampling)  # what a sent SamplingParams sets, decided once
            if name in carried:
                values[name] = carried[name]
        elif name in _COLLECTIONS:
            if getattr(spec, name):
                values[name] = list(spec.db_ids) if name == "db_ids" else dict(spec.complexity_mix)
        elif name == "mode":
            if spec.HasField("mode") and spec.mode:
                if spec.mode not in controller_pb2.RunMode.values():
                    raise InvalidArgument(
                        f"mode must be one of {', '.join(MODES)}, got enum value {spec.mode}"
                    )
                values[name] = enum_text(controller_pb2.RunMode, spec.mode)
        elif spec.HasField(name):
            values[name] = getattr(spec, name)
    return values
