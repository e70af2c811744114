"""Both gates on one pair of versions: the gold gate (EX against the split's gold SQL) and the
gold-free gate (services/controller/gold_free_gate.py) by vote - pseudo-labels from the two
versions' pooled samples - and by review - the reviewer the product's `gate_reviewer` names (by
default the serving version's base) judges where their answers differ - on the same held-out
questions, in process. Run it over the (candidate, serving) pairs of a bench
run's rounds (or benchmarks/gate_calibration.py over many versions) to calibrate the gold-free gate:
how often it decides as the gold gate does, how its differences track EX's, and whether it would
roll out a version gold calls worse. Prints the decisions and writes JSON; asserts nothing.

    python -m benchmarks.gate_agreement --candidate V --serving W --dataset DIR [--split dev]
        [--limit N] [--samples 4] [--store-url URL] [--out .bench/gate_agreement.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from offline.evaluation import open_critic, predictions_for
from offline.models import EvalModel, resolve_eval_model, stored_base
from offline.prediction import answer_examples, critic_voter, generator_writer, load_generator
from services.controller.gate import decide
from services.controller.gold_free_gate import Reviewer, compare_by_review, compare_without_gold
from services.controller.settings import RunSettings
from services.critic.scoring import PredictionIn
from shared.answering import Answer, QuestionIn
from shared.catalogue import Catalogue
from shared.config import load_config
from shared.fewshot import few_shot_pool
from shared.stats import compare_paired


def _identity(path: str) -> str:
    return str(Path(path).resolve()) if path and Path(path).exists() else path


def version_answers(
    name: str,
    catalogue: Catalogue,
    examples: list,
    *,
    split: str,
    samples: int,
    store_url: str,
    precision: str,
    config,
    cache: Path | None = None,
) -> tuple[list[Answer], float]:
    """One version's greedy answer and `samples` samples for each example, with the seconds it
    took; with `cache`, read from (or written to) a JSON file keyed by everything that shapes the
    answers, so a version answers once however many pairs it is in."""
    settings = RunSettings(gate_samples=samples)
    model = resolve_eval_model(name, store_url or config.resolved_store_url)
    key = {  # what the model is, not what a store calls it: homes that link one base share answers
        "model": [_identity(model.path), _identity(model.adapter_path), model.few_shot_k],
        "questions": [[e.db_id, e.question] for e in examples],
        "samples": samples,
        "precision": precision,
        "temperature": settings.temperature,
        "seed": settings.seed,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = cache / f"{Path(model.label).name}-{digest}.json" if cache else None
    if path is not None and path.is_file():
        stored = json.loads(path.read_text())
        answers = [Answer(a["sql"], a["greedy"], a["samples"]) for a in stored["answers"]]
        return answers, stored["seconds"]
    pool = few_shot_pool(catalogue, exclude=split)
    generator = load_generator(
        catalogue, model, config.home / "models", pool, device="cpu", precision=precision
    )
    started = time.monotonic()
    answers = answer_examples(
        examples,
        generator_writer(generator, model.few_shot_k),
        samples=samples,
        temperature=settings.temperature,
        seed=settings.seed,
    )
    seconds = time.monotonic() - started
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"sql": a.sql, "greedy": a.greedy, "samples": a.samples} for a in answers]
        path.write_text(json.dumps({"key": key, "seconds": seconds, "answers": rows}))
    return answers, seconds


def held_out(dataset: Path, split: str, limit: int, home: Path | None) -> tuple:
    """The config (of `home`, else the default), the catalogue and its first `limit` held-out examples."""
    config = load_config(home=home) if home else load_config()
    catalogue = Catalogue.load(dataset)
    examples = catalogue.examples(split)
    return config, catalogue, examples[:limit] if limit else examples


def all_answers(
    names: list[str], catalogue: Catalogue, examples: list, **options: Any
) -> tuple[dict[str, list[Answer]], dict[str, float]]:
    """Each named version's answers and the seconds they took, by name (version_answers, with its
    keyword options)."""
    answers, seconds = {}, {}
    for name in names:
        print(f"answers of {name}", flush=True)
        answers[name], seconds[name] = version_answers(name, catalogue, examples, **options)
    return answers, seconds


def decide_pair(
    catalogue: Catalogue,
    examples: list,
    candidate: list[Answer],
    serving: list[Answer],
    samples: int,
    review: Reviewer | None = None,
    fixed: Reviewer | None = None,
) -> dict:
    """Both gates on one pair's answers: the gold gate's decision and the gold-free gate's by vote,
    with `review` (a reviewer: the serving version, or its base as the product's default has it)
    also by review, and with `fixed` (one reviewer for every pair, e.g. the base model) by its
    review as well."""
    settings = RunSettings(gate_samples=samples)
    questions = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(examples)]
    critic = open_critic(catalogue)
    try:
        gold = {}
        for role, answers in (("candidate", candidate), ("serving", serving)):
            _report, scores = critic.evaluate(predictions_for(examples, [a.greedy for a in answers]))
            gold[role] = {str(i): s.execution_match for i, s in enumerate(scores)}

        def score(asked):
            predictions = [
                PredictionIn(str(k), q.db_id, label, sql) for k, (q, label, sql) in enumerate(asked)
            ]
            _report, scores = critic.evaluate(predictions)
            return [s.execution_match for s in scores]

        free = compare_without_gold(
            questions,
            candidate,
            serving,
            critic_voter(critic),
            score,
            settings.majority_share,
            settings.majority_min_votes,
        )
        reviewed = {
            key: compare_by_review(questions, candidate, serving, critic_voter(critic), score, reviewer)
            for key, reviewer in (("review", review), ("review_fixed", fixed))
            if reviewer is not None
        }
    finally:
        critic.close()
    with_gold = compare_paired(gold["candidate"], gold["serving"])
    without = compare_paired(free.candidate, free.serving)
    decisions = {
        "gold": decide(with_gold, settings.gate_mode, settings.gate_margin, settings.gate_alpha),
        "gold_free": decide(without, settings.gate_mode, settings.gate_margin, settings.gate_alpha),
    }
    for name, decision in decisions.items():
        print(f"{name:9s} {'roll out' if decision.roll_out else 'reject  '}  {decision.reason}")
    agree = decisions["gold"].roll_out == decisions["gold_free"].roll_out
    print(
        f"pseudo-labelled {free.labelled} of {free.questions}; executes {free.candidate_executes:.3f} "
        f"vs {free.serving_executes:.3f}; agree: {agree}"
    )
    return {
        "questions": len(examples),
        "samples": samples,
        "gold": asdict(with_gold) | {"roll_out": decisions["gold"].roll_out},
        "gold_free": asdict(without)
        | {
            "roll_out": decisions["gold_free"].roll_out,
            "pseudo_labelled": free.labelled,
            "candidate_executes": free.candidate_executes,
            "serving_executes": free.serving_executes,
        },
        "agree": agree,
        "wrong_rollout": decisions["gold_free"].roll_out and with_gold.difference < 0,
    } | {
        k: v
        for key, comparison in reviewed.items()
        for k, v in by_review(comparison, with_gold, decisions["gold"].roll_out, settings, key).items()
    }


def by_review(reviewed, with_gold, gold_roll_out: bool, settings: RunSettings, key: str = "review") -> dict:
    """The gold-free gate by review on the pair, beside the gold gate's decision (its figures under
    `gold_free_<key>`, `agree_<key>` and `wrong_rollout_<key>`)."""
    comparison = compare_paired(reviewed.candidate, reviewed.serving)
    decision = decide(comparison, settings.gate_mode, settings.gate_margin, settings.gate_alpha)
    label = f"by {key.replace('_', ' ')}"
    print(f"{label:9s} {'roll out' if decision.roll_out else 'reject  '}  {decision.reason}")
    print(
        f"reviewed {reviewed.reviewed} of {reviewed.questions}; agree: {decision.roll_out == gold_roll_out}"
    )
    return {
        f"gold_free_{key}": asdict(comparison)
        | {"roll_out": decision.roll_out, "reviewed": reviewed.reviewed},
        f"agree_{key}": decision.roll_out == gold_roll_out,
        f"wrong_rollout_{key}": decision.roll_out and with_gold.difference < 0,
    }


def agreement(
    candidate: str,
    serving: str,
    dataset: Path,
    *,
    split: str = "dev",
    limit: int = 0,
    samples: int = RunSettings().gate_samples,
    store_url: str = "",
    precision: str = "fp32",
    home: Path | None = None,
    cache: Path | None = None,
) -> dict:
    """Both gates' decisions on candidate against serving, with their figures (the JSON written)."""
    config, catalogue, examples = held_out(dataset, split, limit, home)
    answers, seconds = all_answers(
        [candidate, serving],
        catalogue,
        examples,
        split=split,
        samples=samples,
        store_url=store_url,
        precision=precision,
        config=config,
        cache=cache,
    )
    # the reviewer the product's default (gate_reviewer) would use
    as_base = RunSettings().gate_reviewer == "base"
    review = serving_reviewer(serving, catalogue, split, store_url, precision, config, base=as_base)
    decided = decide_pair(catalogue, examples, answers[candidate], answers[serving], samples, review)
    reviewer = "base" if as_base else "serving"
    return {
        "candidate": candidate,
        "serving": serving,
        "reviewer": reviewer,
        "precision": precision,
        "seconds": seconds,
    } | decided


def serving_reviewer(
    name: str, catalogue: Catalogue, split: str, store_url: str, precision: str, config, *, base: bool = False
) -> Reviewer:
    """A version, loaded at `precision`, as the gold-free gate's reviewer (by review); with `base`,
    the base model it was trained from, asked as a base (as `gate_reviewer: base` does). It scores
    each (question, SQL) once, however many pairs ask."""
    model = resolve_eval_model(name, store_url or config.resolved_store_url)
    if base:
        model = base_of(model)
    pool = few_shot_pool(catalogue, exclude=split)
    generator = load_generator(
        catalogue, model, config.home / "models", pool, device="cpu", precision=precision
    )
    scored: dict[tuple[str, str, str], float] = {}

    def review(question: QuestionIn, sqls) -> list[float]:
        new = list(dict.fromkeys(s for s in sqls if (question.db_id, question.question, s) not in scored))
        if new:
            scores = generator.review(question.db_id, question.question, new, few_shot_k=model.few_shot_k)[0]
            scored.update(
                {(question.db_id, question.question, s): x for s, x in zip(new, scores, strict=True)}
            )
        return [scored[(question.db_id, question.question, s)] for s in sqls]

    return review


def base_of(model: EvalModel) -> EvalModel:
    """The base model a version was trained from (its adapter dropped; a fully fine-tuned version's
    recorded base), with the shots a run asks a base with."""
    k = RunSettings().few_shot_k
    manifest = Path(model.path) / "manifest.json"
    if not model.adapter_path and manifest.is_file():
        return EvalModel(
            f"base of {model.label}",
            stored_base(json.loads(manifest.read_text()).get("base_model") or ""),
            "",
            k,
        )
    return EvalModel(f"base of {model.label}", model.path, "", k)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidate", required=True, help="version id, version folder or model")
    parser.add_argument("--serving", required=True, help="version id, version folder or model")
    parser.add_argument("--dataset", type=Path, required=True, help="a Spider-format folder with gold SQL")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=0, help="first N held-out questions (0 = all)")
    parser.add_argument("--samples", type=int, default=RunSettings().gate_samples, help="per version")
    parser.add_argument("--store-url", default="", help="the store the version ids are in")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--home", type=Path, default=None, help="the home whose models/ holds the bases")
    parser.add_argument("--cache", type=Path, default=None, help="a folder to keep each version's answers in")
    parser.add_argument("--out", type=Path, default=Path(".bench/gate_agreement.json"))
    args = parser.parse_args()
    document = agreement(
        args.candidate,
        args.serving,
        args.dataset,
        split=args.split,
        limit=args.limit,
        samples=args.samples,
        store_url=args.store_url,
        precision=args.precision,
        home=args.home,
        cache=args.cache,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
