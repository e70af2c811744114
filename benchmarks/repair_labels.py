"""What repair from the database's error does to question-only labels: the same questions' samples
voted without and with their repairs, each label checked against the withheld gold (read here, for
the report only). One sampling pass serves both arms, so the difference is the repairs alone.
Prints a table and writes JSON; asserts nothing.

    python -m benchmarks.repair_labels --dataset DIR [--split train] [--limit 48] [--samples 8]
        [--repair 1] [--model default] [--precision auto] [--out .bench/repair_labels.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from offline.evaluation import open_critic
from offline.prediction import critic_voter, generator_writer, load_generator
from shared import defaults
from shared.answering import QuestionIn, SqlWriter
from shared.catalogue import Catalogue, Example
from shared.repairing import repair
from shared.sampling import Sampling

if TYPE_CHECKING:
    from offline.models import EvalModel
    from services.critic.logic import Critic
    from services.generation.logic import Generator

CHUNK = 16  # questions per generation call


@dataclass
class Arm:
    """One way of labelling: questions labelled by a clear majority and how many were right."""

    labelled: int = 0
    right: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.labelled if self.labelled else 0.0


@dataclass
class Figures:
    questions: int = 0
    samples: int = 0
    failing_samples: int = 0  # samples whose SQL failed with an error (what repair is shown)
    repairs: int = 0  # repaired samples (each failing sample's stand-in)
    repairs_running: int = 0  # of those, repaired SQL that runs
    sample_seconds: float = 0.0
    repair_seconds: float = 0.0


def label_arms(
    examples: Sequence[Example],
    write: SqlWriter,
    critic: Critic,
    samples: int,
    sampling: Sampling,
    attempts: int,
    majority_share: float = defaults.MAJORITY_SHARE,
    min_votes: int = defaults.MAJORITY_MIN_VOTES,
) -> tuple[Arm, Arm, Figures]:
    """(without repair, with repair, figures) over the examples, by the run's gold-free keep rule
    (VoteResult.decided, on a winning group that returns rows)."""
    greedy = Sampling(temperature=0.0, max_new_tokens=sampling.max_new_tokens)
    plain, repaired, figures = Arm(), Arm(), Figures()
    for start in range(0, len(examples), CHUNK):
        chunk = list(examples[start : start + CHUNK])
        questions = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)]
        clock = time.monotonic()
        written = write(questions, samples, replace(sampling, seed=sampling.seed + start))
        figures.sample_seconds += time.monotonic() - clock
        clock = time.monotonic()
        found = repair(questions, written, write, critic_voter(critic), greedy, attempts)
        figures.repair_seconds += time.monotonic() - clock
        for example, sqls, repairs in zip(chunk, written, found, strict=True):
            figures.questions += 1
            figures.samples += len(sqls)
            figures.repairs += len(repairs)
            if not sqls:
                continue
            before = critic.vote(example.db_id, list(sqls))
            after = critic.vote(example.db_id, [*sqls, *(r.sql for r in repairs)])
            figures.failing_samples += sum(1 for error in before.errors if error)
            figures.repairs_running += after.executable - before.executable  # the repairs that ran
            for arm, result, ballots in (
                (plain, before, sqls),
                (repaired, after, [*sqls, *(r.sql for r in repairs)]),
            ):
                if result.winner_empty or not result.decided(majority_share, min_votes):
                    continue
                arm.labelled += 1
                label = ballots[result.answer()]
                arm.right += critic.execution_match(str(critic.db_path(example.db_id)), example.query, label)[
                    0
                ]
    return plain, repaired, figures


def labelling_parser(description: str, limit: int, out: str) -> argparse.ArgumentParser:
    """The options every question-only labelling benchmark takes (this one, review_labels)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True, help="a Spider-format folder with gold SQL")
    parser.add_argument("--split", default="train")
    parser.add_argument("--limit", type=int, default=limit)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--model", default="default", help="what `sqldistill eval --model` takes")
    parser.add_argument("--precision", default=defaults.GENERATION_PRECISION)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--home", type=Path, default=Path(".bench/home"), help="where packaged models assemble"
    )
    parser.add_argument("--out", type=Path, default=Path(out))
    return parser


@dataclass
class Labeller:
    """What a labelling benchmark samples with: the questions, the model as the service loads it,
    the critic, and the run's sampling."""

    examples: list[Example]
    model: EvalModel
    generator: Generator
    critic: Critic
    sampling: Sampling


def open_labeller(args: argparse.Namespace) -> Labeller:
    from offline.models import resolve_eval_model
    from shared.fewshot import few_shot_pool

    catalogue = Catalogue.load(args.dataset)
    model = resolve_eval_model(args.model)
    generator = load_generator(
        catalogue,
        model,
        args.home / "models",
        few_shot_pool(catalogue, exclude=args.split),
        precision=args.precision,
    )
    sampling = Sampling(
        temperature=defaults.TEMPERATURE,
        top_p=defaults.TOP_P,
        max_new_tokens=defaults.MAX_NEW_TOKENS,
        seed=args.seed,
    )
    examples = catalogue.examples(args.split)[: args.limit or None]
    return Labeller(examples, model, generator, open_critic(catalogue), sampling)


def main() -> None:
    parser = labelling_parser(__doc__, 48, ".bench/repair_labels.json")
    parser.add_argument("--repair", type=int, default=defaults.REPAIR_ATTEMPTS)
    args = parser.parse_args()
    labeller = open_labeller(args)
    model, critic = labeller.model, labeller.critic
    try:
        plain, repaired, figures = label_arms(
            labeller.examples,
            generator_writer(labeller.generator, model.few_shot_k),
            critic,
            args.samples,
            labeller.sampling,
            args.repair,
        )
    finally:
        critic.close()
    print(
        f"{figures.questions} questions x {args.samples} samples ({model.label}): "
        f"{figures.failing_samples} of {figures.samples} samples failed with an error; "
        f"{figures.repairs} repaired, {figures.repairs_running} of those run"
    )
    for name, arm in (("without repair", plain), (f"with {args.repair} repair", repaired)):
        print(f"{name:18s} labelled {arm.labelled:3d}  right {arm.right:3d}  precision {arm.precision:.3f}")
    print(f"sampling {figures.sample_seconds / 60:.1f} min, repair {figures.repair_seconds / 60:.1f} min")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "without_repair": asdict(plain),
                "with_repair": asdict(repaired),
                "figures": asdict(figures),
            },
            indent=2,
        )
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
