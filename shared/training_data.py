"""Frozen training datasets: kept pairs rendered once with the shared prompt builder into JSONL,
identified by the SHA-256 of the file. A dataset hash names exactly the text a model trains on."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.fewshot import few_shot_pool, question_prompt
from shared.prompts import REPAIR_TEMPLATE, SQL_TEMPLATE, schema_for_prompt, sql_completion, tables_of
from shared.schema_pruning import REAL_TOKENS_PER_ESTIMATE, estimated_tokens, prune_schema


@dataclass(frozen=True)
class TrainingPair:
    db_id: str
    question: str
    sql: str
    evidence: str = ""


@dataclass(frozen=True)
class PreferencePair:
    """SQL the critic kept for a question, preferred to SQL it judged and did not keep."""

    db_id: str
    question: str
    chosen: str
    rejected: str
    evidence: str = ""


def file_hash(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_prompt(
    catalogue: Catalogue,
    pool: Sequence[Example],
    db_id: str,
    question: str,
    few_shot_k: int,
    evidence: str,
    sql: str,
    also_after: Sequence[str] = (),
) -> str:
    """The prompt inference writes for the question, when it fits a training row beside its SQL (or
    the longest of `also_after`, a preference row's rejected SQL): defaults.TRAIN_MAX_TOKENS, the
    estimate of both taken at its worst. Past that the trainer would cut it (SFT from the left,
    mid-schema); so the schema is pruned instead, to the tables the SQL reads, the joins between
    them and what else fits - the form a pruned inference prompt has. SQL that does not parse names
    no tables: its prompt stays whole."""
    prompt = question_prompt(catalogue, pool, db_id, question, few_shot_k, evidence)
    completion = max(estimated_tokens(sql_completion(s)) for s in (sql, *also_after))
    room = int(defaults.TRAIN_MAX_TOKENS / REAL_TOKENS_PER_ESTIMATE) - completion
    size = estimated_tokens(prompt)
    tables = tables_of(sql)
    if size <= room or not tables:
        return prompt
    shown = prune_schema(catalogue.schema(db_id), question, defaults.SCHEMA_TOKEN_BUDGET)
    budget = max(1, room - (size - estimated_tokens(schema_for_prompt(shown))))
    return question_prompt(
        catalogue, pool, db_id, question, few_shot_k, evidence, schema_budget=budget, keep_tables=tables
    )


def render_rows(
    pairs: Iterable[TrainingPair],
    catalogue: Catalogue,
    few_shot_k: int,
    pool: Sequence[Example] | None = None,
) -> list[dict[str, str]]:
    """One row per pair: the exact prompt inference will see (same pool, same selection; its schema
    pruned where it would not fit the row: training_prompt), and the completion to learn."""
    pool = few_shot_pool(catalogue) if pool is None else pool
    rows = []
    for pair in pairs:
        prompt = training_prompt(
            catalogue, pool, pair.db_id, pair.question, few_shot_k, pair.evidence, pair.sql
        )
        rows.append(
            {
                "db_id": pair.db_id,
                "question": pair.question,
                "sql": pair.sql,
                "prompt": prompt,
                "completion": sql_completion(pair.sql),
                "template": SQL_TEMPLATE,
                "few_shot_k": few_shot_k,
            }
        )
    return rows


def render_preferences(
    pairs: Iterable[PreferencePair],
    catalogue: Catalogue,
    few_shot_k: int,
    pool: Sequence[Example] | None = None,
) -> list[dict[str, str]]:
    """One row per pair, on the same prompt a supervised row of the question has."""
    pool = few_shot_pool(catalogue) if pool is None else pool
    return [
        {
            "db_id": pair.db_id,
            "question": pair.question,
            "prompt": training_prompt(
                catalogue,
                pool,
                pair.db_id,
                pair.question,
                few_shot_k,
                pair.evidence,
                pair.chosen,  # the tables the supervised row of the question shows
                [pair.rejected],  # ... in room for either SQL
            ),
            "chosen": sql_completion(pair.chosen),
            "rejected": sql_completion(pair.rejected),
            "template": SQL_TEMPLATE,
            "few_shot_k": few_shot_k,
        }
        for pair in pairs
    ]


def freeze(rows: Sequence[dict[str, str]], folder: Path) -> tuple[Path, str]:
    """Write rows as JSONL named by their hash (atomically); the same rows give the same file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = folder / f"{digest}.jsonl"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".dataset-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    return path, digest


def prompt_settings(rows: Sequence[dict[str, object]]) -> dict[str, object]:
    """The prompt a dataset's rows were rendered with ({} when rows disagree or do not say), and the
    repair layout the version is asked with when its SQL fails (its rows hold plain prompts only)."""
    settings = {(row.get("template"), row.get("few_shot_k")) for row in rows}
    if len(settings) != 1:
        return {}
    ((template, k),) = settings
    if template is None or k is None:
        return {}
    return {
        "template": template,
        "few_shot_k": k,
        "repair_template": REPAIR_TEMPLATE,
        "schema_token_budget": defaults.SCHEMA_TOKEN_BUDGET,
    }


def version_shots(
    prompt: dict[str, object] | None,
    trained: bool,
    base_k: int = defaults.FEW_SHOT_K,
    unrecorded_k: int = 0,
) -> int:
    """The shots a model version is asked with, wherever it is read from (a version's manifest or its
    store record): a trained version's own (its recorded `prompt_settings`); base_k for a base
    model; unrecorded_k for a trained version recorded before prompts were."""
    recorded = (prompt or {}).get("few_shot_k")
    if trained and recorded is not None:
        return int(recorded)
    return unrecorded_k if trained else base_k


def read_rows(path: Path | str) -> list[dict[str, str]]:
    """A frozen set's rows: supervised (prompt, completion) and, in a dpo round's set, preferences
    (prompt, chosen, rejected)."""
    rows = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            supervised = isinstance(row, dict) and row.get("prompt") and row.get("completion")
            preference = (
                isinstance(row, dict) and row.get("prompt") and row.get("chosen") and row.get("rejected")
            )
            if not (supervised or preference):
                raise ValueError(
                    f"{path}:{number}: each row needs 'prompt' and 'completion' (or 'chosen' and 'rejected')"
                )
            rows.append(row)
    return rows
