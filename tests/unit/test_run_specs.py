"""Run specs as data: the YAML files the demo and the distillation benchmark run, and the CLI's
merge of RunSettings' defaults < YAML < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.controller.settings import RunSettings
from services.controller.validation import validate_settings
from shared import defaults
from shared.bundled.build import build
from shared.catalogue import Catalogue
from shared.run_spec import build_run_spec

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path,mode",
    [
        ("cli/demo.yaml", ""),
        ("cli/demo-unlabelled.yaml", ""),
        ("benchmarks/distill.yaml", "labelled"),
        ("benchmarks/distill.yaml", "unlabelled"),
        ("benchmarks/distill.yaml", "self_instruct"),
    ],
)
def test_shipped_specs_are_valid_and_use_the_recipe(path, mode):
    from benchmarks.bench_distill import mode_spec

    spec = mode_spec(REPO / path, mode, {}) if mode else build_run_spec(REPO / path, {})
    settings = RunSettings.from_message(spec)
    assert settings.few_shot_k == 2 and settings.train_few_shot_k == 0
    assert settings.accumulate and not settings.train_from_parent and settings.test_suite
    assert (settings.temperature, settings.top_p) == (0.7, 0.95)  # the decimals written, not float32's
    assert settings.samples_per_question == (8 if "unlabelled" in (mode, settings.mode) else 4)
    if mode:  # the labelled demo re-answers nothing; the bench's self-instruct mode re-answers 4 times
        assert settings.consistency_samples == (4 if mode == "self_instruct" else 2)


def test_every_ablation_arm_is_a_valid_question_only_spec_differing_only_in_its_fields(tmp_path):
    import yaml

    from benchmarks.bench_distill import mode_spec

    catalogue = Catalogue.load(build(tmp_path / "bundled"))
    plan = yaml.safe_load((REPO / "benchmarks/ablation.yaml").read_text())
    recipe = RunSettings.from_message(mode_spec(REPO / "benchmarks/distill.yaml", plan["mode"], {}))
    arms = {
        "recipe",
        "repair",
        "dpo",
        "int8",
        "review",
        "teacher",
        "defaults",
        "product",
        "epochs2",
        "diverse",
        "all",
    }
    assert set(plan["arms"]) == arms and plan["seeds"] == [0, 1]
    # The docs' comparisons: each of these arms is the product arm with one field changed.
    assert plan["arms"]["diverse"] == {**plan["arms"]["product"], "example_sets": 2}
    assert plan["arms"]["epochs2"] == {**plan["arms"]["product"], "train_epochs": 2}
    product = RunSettings()  # the defaults arm is the product's defaults, whatever the common fields pin
    assert {k: getattr(product, k) for k in plan["common"]} == plan["arms"]["defaults"]
    # The product arm is a question-only run with nothing else changed from the defaults (learning
    # rate 0 means the trainer's default; consistency_samples is self-instruct's alone).
    whole = RunSettings.from_message(
        mode_spec(
            REPO / "benchmarks/distill.yaml", plan["mode"], {**plan["common"], **plan["arms"]["product"]}
        )
    )
    changed = {k for k, v in whole.to_dict().items() if product.to_dict()[k] != v}
    assert changed == {"mode", "consistency_samples", "learning_rate"}
    assert whole.learning_rate == defaults.LEARNING_RATE
    for arm in plan["arms"].values():
        fields = {**plan["common"], **(arm or {})}
        settings = RunSettings.from_message(mode_spec(REPO / "benchmarks/distill.yaml", plan["mode"], fields))
        validate_settings(settings, catalogue)
        differs = {k for k, v in settings.to_dict().items() if recipe.to_dict()[k] != v}
        assert differs == {k for k, v in fields.items() if recipe.to_dict()[k] != v}
        assert settings.generate_precision in ("", "int8", "auto")  # auto: int8 on a CPU


def test_defaults_then_yaml_then_flags(tmp_path):
    spec_file = tmp_path / "run.yaml"
    spec_file.write_text(
        "mode: labelled\nrounds: 5\nsampling: {temperature: 0.3}\nteacher_model: {path: big}\ntrain_on_seed: false\n"
        "train_int8_base: true\n"
    )
    settings = RunSettings.from_message(build_run_spec(spec_file, {"rounds": 2}))
    defaults = RunSettings()
    assert (settings.mode, settings.rounds, settings.teacher_model) == ("labelled", 2, "big")
    assert settings.temperature == pytest.approx(0.3) and settings.top_p == pytest.approx(defaults.top_p)
    assert settings.train_on_seed is False and settings.max_sql_per_question == defaults.max_sql_per_question
    assert settings.train_int8_base is True and defaults.train_int8_base is False
    spec_file.write_text("mode: labelled\nno_such_field: 1\n")
    with pytest.raises(ValueError, match="no_such_field"):
        build_run_spec(spec_file, {})


def test_an_unset_field_takes_the_default_and_a_set_zero_is_kept():
    from shared.pb import controller_pb2

    bare = RunSettings.from_message(controller_pb2.RunSpec())
    assert bare == RunSettings()  # defaults live in one place: nothing implied by a missing field
    assert bare.rounds == 2 and not bare.continuous and bare.test_suite and bare.consistency_samples == 4
    zeros = RunSettings.from_message(
        controller_pb2.RunSpec(test_suite=False, consistency_samples=0, few_shot_k=0, accumulate=False)
    )
    assert (zeros.test_suite, zeros.consistency_samples, zeros.few_shot_k, zeros.accumulate) == (
        False,
        0,
        0,
        False,
    )
    assert RunSettings.from_message(RunSettings(continuous=True).to_message()).continuous


def test_a_client_sends_only_what_its_user_set(tmp_path):
    spec_file = tmp_path / "run.yaml"
    spec_file.write_text("mode: labelled\nsampling: {temperature: 0.0}\n")
    spec = build_run_spec(spec_file, {"test_suite": False})
    assert sorted(f.name for f, _ in spec.ListFields()) == ["mode", "sampling", "test_suite"]
    settings = RunSettings.from_message(spec)
    assert (
        settings.temperature == 0.0 and settings.test_suite is False and settings.rounds == RunSettings.rounds
    )


def test_runs_stored_before_continuous_existed_keep_their_meaning():
    assert RunSettings.from_dict({"rounds": 0}).continuous
    assert not RunSettings.from_dict({"rounds": 3}).continuous


def test_proto_enums_convert_to_and_from_their_words():
    from shared.pb import controller_pb2
    from shared.pbconvert import enum_number, enum_text, enum_words

    assert enum_number(controller_pb2.RunState, "completed") == controller_pb2.RUN_STATE_COMPLETED
    assert enum_text(controller_pb2.Step, controller_pb2.STEP_EVALUATE, upper=True) == "EVALUATE"
    assert (
        enum_text(controller_pb2.RoundOutcome, 0) == "" and enum_number(controller_pb2.RoundOutcome, "") == 0
    )
    assert enum_words(controller_pb2.RunMode) == ["self_instruct", "labelled", "both", "unlabelled"]
    with pytest.raises(ValueError, match="not one of"):
        enum_number(controller_pb2.VersionStatus, "deleted")
    with pytest.raises(Exception, match="mode must be one of"):  # an enum value this controller does not know
        RunSettings.from_message(controller_pb2.RunSpec(mode=42))


class RecordingControllerStub:
    """A stand-in for the controller's stub (this test is about the CLI's flags, not the service):
    records the StartRun request and answers as the controller would."""

    def __init__(self) -> None:
        self.requests: list = []

    def StartRun(self, request):  # noqa: N802 - the RPC's name
        from shared.pb import controller_pb2

        self.requests.append(request)
        return controller_pb2.Run(run_id="r1", serving_version="base")


def test_every_run_spec_field_is_a_flag_of_run(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import cli.runs
    from cli.main import app
    from shared.run_spec import spec_fields

    flags = set(cli.runs.run.__signature__.parameters) - {"spec_file", "detach", "config_file"}
    assert flags == set(spec_fields())
    stub = RecordingControllerStub()
    monkeypatch.setattr(cli.runs, "controller_stub", lambda *_a, **_k: stub)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("few_shot_k: 1\nsampling: {temperature: 0.3}\nrounds: 5\n")
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--spec",
            str(spec_file),
            "--few-shot-k",
            "3",
            "--db",
            "a",
            "--db",
            "b",
            "--no-test-suite",
            "--complexity-mix",
            "easy=0.25",
            "--train-precision",
            "fp32",
            "--top-p",
            "0.5",
            "--detach",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = RunSettings.from_message(stub.requests[0].spec)
    assert (settings.few_shot_k, settings.db_ids, settings.test_suite) == (3, ["a", "b"], False)
    assert (settings.complexity_mix, settings.train_precision) == ({"easy": 0.25}, "fp32")
    assert (round(settings.temperature, 6), settings.top_p, settings.rounds) == (0.3, 0.5, 5)  # YAML < flags
    assert settings.train_epochs == RunSettings().train_epochs  # not given: the controller's default


def test_every_run_flag_has_help_from_its_fields_own_description():
    """`sqldistill run --help` describes every flag with the field's comment in controller.proto
    (compiled into field_docs.json by `make protos`), so a field added there is documented here."""
    import inspect

    from cli.runs import run
    from shared.run_spec import spec_field_help, spec_fields

    helps = spec_field_help()
    assert set(helps) == set(spec_fields()) and all(helps.values()), [n for n, h in helps.items() if not h]
    flags = {
        name: parameter.annotation.__metadata__[0].help
        for name, parameter in inspect.signature(run).parameters.items()
    }
    assert all(flags.values()), [n for n, h in flags.items() if not h]
    assert flags["majority_share"].startswith(helps["majority_share"])


def test_the_default_settings_survive_the_message_unchanged():
    """RunSpec carries temperature and top_p as 32-bit floats; read back they are the decimals that
    were sent, so a spec that states the defaults outright runs on exactly the defaults."""
    assert RunSettings.from_message(RunSettings().to_message()) == RunSettings()


def test_a_run_stored_before_a_setting_existed_resumes_as_it_began():
    """A stored run without gate_free_method / gate_reviewer gated by vote and by the serving
    version's review: resumed, it keeps them rather than today's defaults."""
    stored = RunSettings().to_dict()
    assert RunSettings.from_dict(stored) == RunSettings()  # a run stored today: exactly as stored
    del stored["gate_free_method"], stored["gate_reviewer"]
    resumed = RunSettings.from_dict(stored)
    assert (resumed.gate_free_method, resumed.gate_reviewer) == ("vote", "serving")
