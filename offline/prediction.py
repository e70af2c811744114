"""A model's answers for a split's questions, in process: written by the generation service's own
Generator (shared.answering.write_answers) and, with samples, settled by the critic's own vote
(critic_voter, through shared.answering.settle in offline/evaluation.py) - the rule EVALUATE and
Ask apply over gRPC - so `sqldistill eval` scores what a run's gate would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from offline.models import EvalModel
from shared import defaults
from shared.answering import (
    Answer,
    Ballots,
    QuestionIn,
    SqlWriter,
    VoteOutcome,
    Voter,
    repair_answers,
    write_answers,
)
from shared.catalogue import Catalogue, Example
from shared.sampling import Sampling

if TYPE_CHECKING:
    from services.critic.execution import Executor
    from services.generation.logic import Generator

BATCH = 16  # questions per generation call: one progress step


def generator_writer(generator: Generator, shots: int) -> SqlWriter:
    """The Generator as an SqlWriter (each question's SQL in the order of the questions)."""

    def write(questions: Sequence[QuestionIn], n: int, sampling: Sampling) -> list[list[str]]:
        results, _version = generator.generate_sql(list(questions), n, shots, sampling)
        by_id = {r.question_id: list(r.sql) for r in results}
        return [by_id.get(q.id, []) for q in questions]

    return write


def critic_voter(critic: Executor, test_suite: bool = False, *, empty_last: bool = True) -> Voter:
    """The critic's vote as a Voter, as its Vote RPC answers (`empty_last=False`: the older rule that
    ranked empty answers like any other, for ablations)."""

    def vote(items: list[Ballots]) -> list[VoteOutcome]:
        outcomes = []
        for item in items:
            result = critic.vote(
                item.db_id, item.sql, test_suite=test_suite, preferred=item.preferred, empty_last=empty_last
            )
            outcomes.append(
                VoteOutcome(
                    result.answer(item.preferred),
                    len(result.winning),
                    result.executable,
                    result.winner_empty,
                    result.errors,
                )
            )
        return outcomes

    return vote


def load_generator(
    catalogue: Catalogue,
    model: EvalModel,
    models_dir: Path,
    pool: Sequence[Example] = (),
    *,
    device: str = "auto",
    precision: str = defaults.GENERATION_PRECISION,
    constrain: str = defaults.CONSTRAIN,
    schema_budget: int = defaults.SCHEMA_TOKEN_BUDGET,
) -> Generator:
    """The model loaded as the generation service would load it (same device and precision)."""
    from services.generation.backends import ModelSpec
    from services.generation.logic import Generator
    from services.generation.transformers_backend import TransformersBackend

    backend = TransformersBackend(
        models_dir, ModelSpec(model.path, model.adapter_path, model.label), device=device, precision=precision
    )
    return Generator(
        catalogue, backend, pool, default_k=model.few_shot_k, constrain=constrain, schema_budget=schema_budget
    )


def answer_examples(
    examples: Sequence[Example],
    write: SqlWriter,
    *,
    max_new_tokens: int = defaults.MAX_NEW_TOKENS,
    samples: int = 0,
    temperature: float = defaults.TEMPERATURE,
    seed: int = 0,
    repair_attempts: int = 0,
    check: Voter | None = None,
    on_progress: Callable[[int], None] = lambda done: None,
) -> list[Answer]:
    """Each example's greedy answer in order and, with `samples`, that many samples, unsettled (the
    critic that scores them votes: offline.evaluation.evaluate); each batch's samples get their own
    seed (seed + its start). With `repair_attempts`, SQL that `check` (the critic's vote) finds
    failing is repaired and the repairs join the answer's ballots, unsettled too."""
    if repair_attempts and check is None:
        raise ValueError("repair needs a critic to run the SQL")
    greedy = Sampling(temperature=0.0, max_new_tokens=max_new_tokens)
    answers: list[Answer] = []
    for start in range(0, len(examples), BATCH):
        chunk = examples[start : start + BATCH]
        questions = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)]
        sampling = Sampling(
            temperature=temperature, top_p=defaults.TOP_P, max_new_tokens=max_new_tokens, seed=seed + start
        )
        written = write_answers(questions, write, greedy, samples, sampling)
        if repair_attempts:
            repair_answers(questions, written, write, check, greedy, repair_attempts)
        answers += written
        on_progress(len(answers))
    return answers


def write_predictions(predictions: Sequence[str], path: Path, db_ids: Sequence[str] = ()) -> None:
    """One query per line, as Spider's evaluator reads them (an empty output becomes SELECT 1); a
    .json path gets BIRD's prediction file instead (its evaluator's format, with each db_id)."""
    if path.suffix == ".json":
        from services.critic.predictions import write_bird_predictions

        write_bird_predictions(predictions, db_ids, path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((" ".join(p.split()) or "SELECT 1") + "\n" for p in predictions))
