"""Limits that a caller validates and a service enforces: one table both sides import, so a run's
settings are refused at StartRun (services/controller/validation.py) rather than rounds later inside
a job, and a service's own check says the same numbers."""

from __future__ import annotations

# --- generation ------------------------------------------------------------------------------------
MAX_SAMPLES = 256  # SQL samples (or pairs) per question / call
MAX_QUESTIONS = 512  # questions per GenerateSql call
MAX_REVIEW_SQL = 64  # SQL per ReviewSql call (one batch over one prompt)
MAX_LABEL_REVIEW_MARGIN = 100.0  # nats: past this a review never withholds a label
MAX_NEW_TOKENS = 1024
MAX_FEW_SHOT_K = 16  # examples in a prompt
MAX_EXAMPLE_SETS = 8  # sets of few-shot examples one question's samples are spread over
MAX_TEMPERATURE = 5.0
MAX_FOCUSES = 256  # planned tables / join paths (or row levels) per GeneratePairs call
MAX_FOCUS_TABLES = 8  # tables in one focus
CONSTRAIN_MODES = ("off", "identifiers", "full")  # how SQL is held to its database's grammar
MAX_REPAIR_ATTEMPTS = 4  # repairs of one failing SQL in a row (each runs the repair before the next)
MAX_VOTING_SAMPLES = (
    64  # answer-time voting (ask, eval --samples, a run's eval_samples): a person or a gate waits
)

# --- critic ----------------------------------------------------------------------------------------
MAX_TIMEOUT_MS = 60_000
MAX_ROWS = 1_000_000
MAX_SQL_CHARS = 100_000
MAX_CANDIDATES = 100_000  # per JudgeCandidates call
MAX_VOTE_ITEMS = 10_000  # questions per Vote call
MAX_INTERACTIVE_VOTE_ITEMS = 4  # a person waits on these: a few questions, never a round's worth
MAJORITY_SHARE_BOUNDS = (0.0, 1.0)  # [lowest, highest): no group holds more than every sample


def check_majority(share: float, min_votes: int) -> None:
    """A gold-free keep rule as both StartRun and the critic's judge accept it."""
    from shared.errors import InvalidArgument  # here: the GPU machine reads limits without grpc

    low, high = MAJORITY_SHARE_BOUNDS
    if not low <= share < high:
        raise InvalidArgument(f"majority_share must be within [{low:g}, {high:g}), got {share}")
    if min_votes < 1:
        raise InvalidArgument(f"majority_min_votes must be >= 1, got {min_votes}")


# --- controller ------------------------------------------------------------------------------------
FEW_GATE_QUESTIONS = 100  # a gate decision on fewer held-out questions is flagged: its power is low
MAX_QUESTION_CHARS = 2_000  # a question asked, imported or logged
MAX_NAME_CHARS = 128  # who asked, gave feedback or rolled back (a client-supplied name)
MAX_NOTE_CHARS = 2_000  # a note with feedback
MAX_IMPORT_QUESTIONS = 100_000  # questions in one imported file

# --- trainer ---------------------------------------------------------------------------------------
TRAIN_METHODS = ("lora", "full", "dpo")  # dpo: LoRA fine-tuning, then preferences (DPO) on the adapter
GENERATION_PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")  # a model's number format when generating
TRAIN_PRECISIONS = ("auto", "fp32", "bf16")  # the training matmuls' format (trained weights stay fp32)
TRAIN_BOUNDS = {  # TrainingParams field: (lowest, highest), inclusive
    "lora_rank": (1, 1024),
    "lora_alpha": (1, 4096),
    "epochs": (1, 100),
    "max_steps": (0, 10_000_000),
    "batch_size": (1, 4096),
    "gradient_accumulation": (1, 4096),
    "max_length": (17, 131_072),
    "checkpoint_every": (0, 10_000_000),
}
MAX_LEARNING_RATE = 1.0
