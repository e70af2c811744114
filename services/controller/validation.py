"""Which run settings the controller accepts: the catalogue's splits and databases, the recipe's
ranges, and the held-out guard (a run never generates on, or trains on, what it is evaluated on)."""

from __future__ import annotations

from services.controller.enums import Mode
from services.controller.settings import (
    GATE_FREE_METHODS,
    GATE_MODES,
    GATE_REVIEWERS,
    LABEL_REVIEWERS,
    MODES,
    QUESTION_SOURCES,
    RunSettings,
)
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.limits import (
    CONSTRAIN_MODES,
    GENERATION_PRECISIONS,
    MAX_EXAMPLE_SETS,
    MAX_FEW_SHOT_K,
    MAX_LABEL_REVIEW_MARGIN,
    MAX_LEARNING_RATE,
    MAX_NEW_TOKENS,
    MAX_REPAIR_ATTEMPTS,
    MAX_SAMPLES,
    MAX_TEMPERATURE,
    MAX_VOTING_SAMPLES,
    TRAIN_BOUNDS,
    TRAIN_METHODS,
    TRAIN_PRECISIONS,
    check_majority,
)

# Run settings that become a service's parameter, checked against that service's own bounds.
_TRAIN_FIELDS = {"train_epochs": "epochs", "train_batch_size": "batch_size", "train_max_steps": "max_steps"}
_SAMPLE_COUNTS = ("samples_per_question", "consistency_samples", "candidates_per_db")


def validate_settings(settings: RunSettings, catalogue: Catalogue) -> None:
    """Refuse a run that could not finish, with INVALID_ARGUMENT and what to fix - including a split
    file the run would read that does not parse (`file:line` of the first bad line)."""
    try:
        _validate(settings, catalogue)
    except (ValueError, KeyError) as exc:  # the catalogue reading a malformed split file
        raise InvalidArgument(f"dataset: {str(exc).strip(chr(34))}") from None


def _validate(settings: RunSettings, catalogue: Catalogue) -> None:
    if settings.mode not in MODES:
        raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {settings.mode!r}")
    if settings.rounds < 1 and not settings.continuous:
        raise InvalidArgument("rounds must be >= 1; set continuous to run until stopped")
    unknown = [d for d in settings.db_ids if not catalogue.has(d)]
    if unknown:
        raise InvalidArgument(f"unknown databases: {', '.join(unknown)}")
    if settings.eval_split not in catalogue.split_files:
        raise InvalidArgument(
            f"evaluation split {settings.eval_split!r} not in the dataset (has {', '.join(catalogue.splits) or 'none'})"
        )
    trained_splits = {"train"} | ({"seed"} if settings.train_on_seed else set())
    if settings.eval_split in trained_splits:
        raise InvalidArgument(f"eval_split {settings.eval_split!r} is a split this run trains on")
    # Whatever way they were chosen, the databases the run generates on must be unseen at evaluation.
    eval_dbs = {e.db_id for e in catalogue.examples(settings.eval_split)}
    train_dbs = {e.db_id for e in catalogue.examples("train")} if "train" in catalogue.split_files else set()
    # (A run on the question log reads no split: its questions on held-out databases never train.)
    from_log = settings.questions_from == "log"
    generation_dbs = (
        set(settings.db_ids) if from_log else set(settings.db_ids) or train_dbs or set(catalogue.db_ids)
    )
    overlap = sorted(generation_dbs & eval_dbs)
    if overlap:
        raise InvalidArgument(
            f"training databases overlap the held-out evaluation databases: {', '.join(overlap[:5])}"
        )
    if settings.mode in (Mode.LABELLED, Mode.BOTH) and "train" not in catalogue.split_files:
        raise InvalidArgument("labelled mode needs a 'train' split with gold SQL")
    _validate_question_source(settings)
    if settings.mode == Mode.UNLABELLED and not from_log and "train" not in catalogue.split_files:
        raise InvalidArgument(
            "unlabelled mode needs a 'train' split of questions (train.json or train.jsonl; SQL not needed)"
        )
    check_majority(settings.majority_share, settings.majority_min_votes)
    if settings.mode == Mode.UNLABELLED and settings.samples_per_question < settings.majority_min_votes:
        raise InvalidArgument(
            f"unlabelled mode labels a question when at least majority_min_votes "
            f"({settings.majority_min_votes}) samples agree: samples_per_question "
            f"({settings.samples_per_question}) must be at least that"
        )
    if not 0 <= settings.eval_samples <= MAX_VOTING_SAMPLES:
        raise InvalidArgument(f"eval_samples must be within [0, {MAX_VOTING_SAMPLES}] (0 = greedy)")
    if settings.max_attempts < 0:
        raise InvalidArgument(f"max_attempts must be >= 0 (0 = no limit), got {settings.max_attempts}")
    for name in ("repair_attempts", "eval_repair"):
        if not 0 <= getattr(settings, name) <= MAX_REPAIR_ATTEMPTS:
            raise InvalidArgument(
                f"{name} must be within [0, {MAX_REPAIR_ATTEMPTS}], got {getattr(settings, name)}"
            )
    if not 1 <= settings.example_sets <= MAX_EXAMPLE_SETS:
        raise InvalidArgument(
            f"example_sets must be within [1, {MAX_EXAMPLE_SETS}], got {settings.example_sets}"
        )
    if not 1 <= settings.gate_samples <= MAX_VOTING_SAMPLES:
        raise InvalidArgument(f"gate_samples must be within [1, {MAX_VOTING_SAMPLES}]")
    if settings.candidates_per_db <= 0 or settings.samples_per_question <= 0:
        raise InvalidArgument("candidates_per_db and samples_per_question must be positive")
    _validate_service_limits(settings)
    if not 0 <= settings.label_review_margin <= MAX_LABEL_REVIEW_MARGIN:
        raise InvalidArgument(
            f"label_review_margin must be within [0, {MAX_LABEL_REVIEW_MARGIN:g}] nats, got {settings.label_review_margin}"
        )
    if settings.gate_margin < 0:
        raise InvalidArgument("gate_margin must be >= 0")
    if settings.train_method not in TRAIN_METHODS:
        raise InvalidArgument(f"train_method must be one of {', '.join(TRAIN_METHODS)}")
    if settings.generate_precision and settings.generate_precision not in GENERATION_PRECISIONS:
        raise InvalidArgument(
            f"generate_precision must be one of {', '.join(GENERATION_PRECISIONS)} (or empty: the "
            f"generation service's own), got {settings.generate_precision!r}"
        )
    if settings.train_precision not in TRAIN_PRECISIONS:
        raise InvalidArgument(f"train_precision must be one of {', '.join(TRAIN_PRECISIONS)}")
    if settings.constrain not in CONSTRAIN_MODES:
        raise InvalidArgument(
            f"constrain must be one of {', '.join(CONSTRAIN_MODES)}, got {settings.constrain!r}"
        )
    if settings.gate_mode not in GATE_MODES:
        raise InvalidArgument(f"gate_mode must be one of {', '.join(GATE_MODES)}, got {settings.gate_mode!r}")
    if settings.gate_free_method not in GATE_FREE_METHODS:
        raise InvalidArgument(
            f"gate_free_method must be one of {', '.join(GATE_FREE_METHODS)}, got {settings.gate_free_method!r}"
        )
    if settings.gate_reviewer not in GATE_REVIEWERS:
        raise InvalidArgument(
            f"gate_reviewer must be one of {', '.join(GATE_REVIEWERS)}, got {settings.gate_reviewer!r}"
        )
    if settings.label_reviewer not in LABEL_REVIEWERS:
        raise InvalidArgument(
            f"label_reviewer must be one of {', '.join(LABEL_REVIEWERS)}, got {settings.label_reviewer!r}"
        )
    if not 0 < settings.gate_alpha < 1:
        raise InvalidArgument("gate_alpha must be within (0, 1)")
    if not 0 <= settings.train_few_shot_k <= MAX_FEW_SHOT_K or not 0 <= settings.few_shot_k <= MAX_FEW_SHOT_K:
        raise InvalidArgument(f"few_shot_k and train_few_shot_k must be within [0, {MAX_FEW_SHOT_K}]")
    if settings.max_sql_per_question <= 0 or settings.train_epochs <= 0:
        raise InvalidArgument("max_sql_per_question and train_epochs must be positive")


def _validate_question_source(settings: RunSettings) -> None:
    if settings.questions_from not in QUESTION_SOURCES:
        raise InvalidArgument(
            f"questions_from must be one of {', '.join(QUESTION_SOURCES)}, got {settings.questions_from!r}"
        )
    if settings.questions_from == "log" and settings.mode != Mode.UNLABELLED:
        raise InvalidArgument(
            "questions_from log labels the question log's questions: set mode unlabelled (questions "
            "with a person's SQL train as labelled rows in the same round)"
        )
    if not 0 <= settings.log_holdout < 1:
        raise InvalidArgument(f"log_holdout must be within [0, 1), got {settings.log_holdout}")
    if settings.min_new_questions < 1:
        raise InvalidArgument(f"min_new_questions must be >= 1, got {settings.min_new_questions}")
    if settings.round_interval_seconds <= 0:
        raise InvalidArgument(f"round_interval_seconds must be > 0, got {settings.round_interval_seconds}")


def _validate_service_limits(settings: RunSettings) -> None:
    """What generation and the trainer would refuse mid-round, refused here with the same bounds."""
    for name in _SAMPLE_COUNTS:
        if getattr(settings, name) > MAX_SAMPLES:
            raise InvalidArgument(f"{name} must be at most {MAX_SAMPLES} (the generation service's limit)")
    if not 0 <= settings.temperature <= MAX_TEMPERATURE:
        raise InvalidArgument(f"temperature must be within [0, {MAX_TEMPERATURE:g}]")
    if not 0 < settings.top_p <= 1:
        raise InvalidArgument("top_p must be within (0, 1]")
    if not 1 <= settings.max_new_tokens <= MAX_NEW_TOKENS:
        raise InvalidArgument(f"max_new_tokens must be within [1, {MAX_NEW_TOKENS}]")
    for name, param in _TRAIN_FIELDS.items():
        low, high = TRAIN_BOUNDS[param]
        if not low <= getattr(settings, name) <= high:
            raise InvalidArgument(f"{name} must be within [{low}, {high}] (the trainer's limit)")
    if not 0 <= settings.learning_rate <= MAX_LEARNING_RATE:
        raise InvalidArgument(
            f"learning_rate must be within [0, {MAX_LEARNING_RATE:g}] (0 = the method's default)"
        )
