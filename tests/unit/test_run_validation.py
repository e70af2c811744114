"""Which run specs the controller refuses at StartRun, and with what to fix: the spec's conversion
(RunSettings.from_message) and validate_settings over the bundled dataset, as the controller runs
them before a run starts (tests/e2e/test_controller.py checks the refusal arrives as INVALID_ARGUMENT
over gRPC)."""

from __future__ import annotations

import re
import shutil

import pytest

from services.controller.settings import RunSettings
from services.controller.validation import validate_settings
from shared.bundled.build import build
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.limits import MAX_SAMPLES, MAX_VOTING_SAMPLES, TRAIN_BOUNDS
from shared.pb import controller_pb2
from tests.support.run_specs import run_spec as base_spec


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Catalogue:
    """The bundled benchmark, as the controller's scripted test stack serves it."""
    return Catalogue.load(build(tmp_path_factory.mktemp("bundled") / "bundled"))


def run_spec(**overrides) -> controller_pb2.RunSpec:
    """The e2e tests' valid spec (tests/support/run_specs.py), with overrides."""
    return base_spec("/models/tiny", **overrides)


def test_the_valid_spec_is_accepted(catalogue):
    validate_settings(RunSettings.from_message(run_spec()), catalogue)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(mode=99), "mode must be"),  # an enum value the controller does not know
        (dict(db_ids=["atlantis"]), "unknown databases"),
        (dict(db_ids=["film"]), "overlap the held-out"),
        (dict(eval_split="nope"), "evaluation split"),
        (dict(gate_margin=-1), "gate_margin"),
        (dict(rounds=0), "set continuous"),  # never implied by a zero
        (dict(eval_split="train"), "a split this run trains on"),
        (dict(eval_split="seed"), "a split this run trains on"),
        # No db_ids: the run would generate on every train database, which the seed split shares.
        (dict(db_ids=[], eval_split="seed", train_on_seed=False), "overlap the held-out"),
        (dict(mode="unlabelled", samples_per_question=1), "must be at least that"),
        (dict(majority_share=1.0), "majority_share"),
        (dict(gate_samples=0), "gate_samples must be within"),
        (dict(gate_samples=MAX_VOTING_SAMPLES + 1), "gate_samples must be within"),
        (dict(repair_attempts=-1), "repair_attempts must be within [0, 4]"),
        (dict(eval_repair=5), "eval_repair must be within [0, 4]"),
        (dict(eval_samples=65), "eval_samples"),
        # What a service would refuse rounds later is refused here, with that service's bound.
        (dict(samples_per_question=MAX_SAMPLES + 1), "generation service's limit"),
        (dict(train_epochs=TRAIN_BOUNDS["epochs"][1] + 1), "trainer's limit"),
        (dict(train_batch_size=0), "train_batch_size must be within"),
        (dict(questions_from="archive"), "questions_from must be one of split, log"),
        (dict(questions_from="log"), "set mode unlabelled"),
        (dict(mode="unlabelled", questions_from="log", log_holdout=1.0), "log_holdout must be within"),
        (dict(mode="unlabelled", questions_from="log", min_new_questions=0), "min_new_questions"),
        (dict(mode="unlabelled", questions_from="log", round_interval_seconds=0), "round_interval_seconds"),
        (dict(generate_precision="int4"), "generate_precision must be one of auto, fp32"),
        (dict(label_review_margin=-0.5), "label_review_margin must be within [0, 100] nats"),
        (dict(label_review_margin=1e9), "label_review_margin must be within [0, 100] nats"),
        (dict(gate_free_method="oracle"), "gate_free_method must be one of review, vote"),
        (dict(gate_reviewer="teacher"), "gate_reviewer must be one of serving, base"),
        (dict(label_reviewer="serving"), "label_reviewer must be one of writer, base"),
        (dict(example_sets=0), "example_sets must be within [1, 8]"),
        (dict(example_sets=9), "example_sets must be within [1, 8]"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_run_specs_are_refused_with_what_to_fix(catalogue, overrides, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        validate_settings(RunSettings.from_message(run_spec(**overrides)), catalogue)


def test_a_run_on_the_question_log_needs_no_train_split_of_questions(catalogue, tmp_path):
    """Its questions are what people asked: the dataset's train split may not exist at all."""
    shutil.copytree(catalogue.root, tmp_path / "data")
    for split in (tmp_path / "data").glob("train.json*"):
        split.unlink()
    without_train = Catalogue.load(tmp_path / "data")
    assert "train" not in without_train.split_files
    settings = RunSettings.from_message(
        run_spec(mode="unlabelled", samples_per_question=4, questions_from="log", continuous=True)
    )
    assert (settings.questions_from, settings.log_holdout, settings.min_new_questions) == ("log", 0.2, 20)
    validate_settings(settings, without_train)
    split_run = RunSettings.from_message(run_spec(mode="unlabelled", samples_per_question=4))
    with pytest.raises(InvalidArgument, match="needs a 'train' split"):
        validate_settings(split_run, without_train)
