"""Defaults that more than one layer applies: the controller fills a run's settings with them, a
service falls back on them when a request leaves a field unset, and the CLI shows them as its
options' defaults. Each is written here once (tests/unit/test_defaults.py checks that no other
module writes it again). Defaults of one layer alone stay beside their code (RunSettings, configs)."""

from __future__ import annotations

# --- sampling --------------------------------------------------------------------------------------
TEMPERATURE = 0.7  # a run's samples and answer-time voting (greedy is temperature 0)
TOP_P = 0.95  # a run's nucleus; a request that leaves top_p unset gets 1.0 (no nucleus cut)
MAX_NEW_TOKENS = 128  # a SQL answer or a (question, SQL) pair fits in well under this
# Gold-free keep (a question's samples, a pair's re-answers): the winning group of samples with one
# result holds more than this share of the executable samples ...
MAJORITY_SHARE = 0.5
MAJORITY_MIN_VOTES = 2  # ... and at least this many of them
PAIR_TEMPERATURE = 0.8  # self-instruct pairs when a request sends no sampling: varied questions
FEW_SHOT_K = 2  # examples in the base model's prompt (a trained version is asked with its own k)
# Sets of few-shot examples a question's samples are spread over: one, the database's usual pair
# (two sets labelled better but gained no proven EX: docs/benchmarks.md, "Ablation").
EXAMPLE_SETS = 1
# SQL that fails to run is written again with the database's error this many times (a run's
# sampling, Ask; shared/repairing.py). Off: the default 0.5B model repaired none of the 17 failing
# greedy answers of the bundled held-out set (docs/benchmarks.md, "Repair from the database's error").
REPAIR_ATTEMPTS = 0

SNAPSHOT_ROWS = 10_000  # a source database's rows copied per table into its snapshot (0 = every row)
ANSWER_ROWS = 20  # rows of an answer's result that Ask returns and `sqldistill ask` shows

# --- training --------------------------------------------------------------------------------------
TRAIN_METHOD = "lora"
TRAIN_EPOCHS = 1
TRAIN_BATCH_SIZE = 4  # per-device micro-batch
LEARNING_RATE = 2e-4  # what a run's learning_rate 0 means
# Tokens in one training row, prompt and SQL: the trainer cuts longer rows (SFT the prompt from the
# left, DPO the end), so training rows are rendered to fit (shared/training_data.training_prompt).
TRAIN_MAX_TOKENS = 1024
TRAIN_PRECISION = "auto"  # bf16 matmuls on a GPU that has them, else fp32

# --- critic ----------------------------------------------------------------------------------------
QUERY_TIMEOUT_MS = 2000  # one query's deadline in the sandbox
MAX_RESULT_ROWS = 10_000  # rows a query may return before its result counts as truncated
MAX_RESULT_BYTES = 8 * 1024 * 1024  # a result's size before it counts as truncated
QUERY_MEMORY_MB = 512  # address space a sandbox worker may add while it runs a query

# --- generation ------------------------------------------------------------------------------------
GENERATION_PRECISION = "auto"  # bf16 on a GPU, fp32 on a CPU (int8 when asked)
# off | identifiers | full: the database's grammar where SQL is written (services/generation/sql_grammar.py)
CONSTRAIN = "off"

# --- models ----------------------------------------------------------------------------------------
DEFAULT_MODEL_ALIAS = "default"  # what a run's empty base_model means: the packaged default model

# --- prompts ---------------------------------------------------------------------------------------
# A question's prompt shows the whole schema up to this many estimated tokens (shared/schema_pruning.
# estimated_tokens); past it, the tables most relevant to the question and those joining them. The
# same rule builds inference prompts and training rows (which also fit TRAIN_MAX_TOKENS); a version's
# manifest records it.
SCHEMA_TOKEN_BUDGET = 6000
