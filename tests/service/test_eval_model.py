"""`sqldistill eval --model`: predictions for a Spider-format split by any model (a stored version id,
a version folder, or a plain model), one SQL per line, scored by the critic; and how each kind of
model is resolved to what loads and the prompt it is asked with."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cli.predict import UnknownModel, resolve_eval_model
from shared.catalogue import Catalogue
from shared.defaults import FEW_SHOT_K as DEFAULT_BASE_SHOTS
from shared.fewshot import few_shot_pool
from shared.store import ModelVersion, Store
from testbed.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "base")


def _version_folder(path, base, k, adapter=True):
    path.mkdir(parents=True)
    manifest = {"version": path.name, "base_model": base, "adapter": adapter, "prompt": {"few_shot_k": k}}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_a_version_is_asked_with_the_prompt_it_was_trained_on(tmp_path):
    folder = _version_folder(tmp_path / "run-r1", "qwen2.5-coder-0.5b", 0)
    chosen = resolve_eval_model(str(folder))
    assert (chosen.path, chosen.adapter_path, chosen.few_shot_k) == ("qwen2.5-coder-0.5b", str(folder), 0)
    assert resolve_eval_model(str(folder), shots=3).few_shot_k == 3  # an explicit choice wins
    full = _version_folder(tmp_path / "run-r2", "default", 1, adapter=False)
    assert (resolve_eval_model(str(full)).path, resolve_eval_model(str(full)).adapter_path) == (str(full), "")
    assert (
        resolve_eval_model("default").path == ""
        and resolve_eval_model("default").few_shot_k == DEFAULT_BASE_SHOTS
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    assert resolve_eval_model(str(plain)).path == str(plain)


def test_an_unknown_model_is_one_line_and_a_hub_id_is_tried_only_when_allowed(tmp_path, monkeypatch):
    with pytest.raises(UnknownModel) as info:
        resolve_eval_model("no-such-model", f"sqlite:///{tmp_path / 'store.db'}")
    text = str(info.value)
    assert "\n" not in text and "qwen2.5-coder-0.5b" in text and "store.db" in text and "hub" not in text
    with pytest.raises(UnknownModel, match="not a hub id on paths.hub_allow \\(empty\\)"):
        resolve_eval_model("some-org/some-model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # an allowed id on a machine without the hub: one try, one line
    with pytest.raises(UnknownModel, match="could not be reached once") as info:
        resolve_eval_model("some-org/some-model", hub_allow=["some-org/*"])
    assert "\n" not in str(info.value)
    result = subprocess.run(  # the command as a user runs it: no traceback, exit 2
        [
            sys.executable,
            "-m",
            "cli.main",
            "eval",
            "--model",
            "no-such-model",
            "--dataset",
            str(tmp_path),
            "--out",
            str(tmp_path / "p.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SQLDISTILL_HOME": str(tmp_path / "home"), "COLUMNS": "400"},
    )
    assert result.returncode == 2 and "no model 'no-such-model'" in result.stdout, (
        result.stdout + result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_a_stored_version_id_resolves_through_the_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    folder = _version_folder(tmp_path / "models" / "abc-r1", "default", 0)
    with Store.open(url).session() as s:
        s.add(ModelVersion(version="base-x", base="some/model", artifact_path=""))
        s.add(ModelVersion(version="abc-r1", base="default", artifact_path=str(folder)))
    assert resolve_eval_model("abc-r1", url).adapter_path == str(folder)
    base = resolve_eval_model("base-x", url)
    assert (base.path, base.adapter_path, base.few_shot_k) == ("some/model", "", DEFAULT_BASE_SHOTS)
    missing = tmp_path / "none" / "store.db"
    with pytest.raises(UnknownModel):  # no store yet: looked for, not created
        resolve_eval_model("abc-r1", f"sqlite:///{missing}")
    assert not missing.exists()


def test_seed_pool_never_comes_from_the_split_being_evaluated(spider_dir):
    catalogue = Catalogue.load(spider_dir)
    assert {e.split for e in few_shot_pool(catalogue, exclude="dev")} == {"train"}
    assert few_shot_pool(catalogue, exclude="train") == []


def test_eval_command_writes_one_prediction_per_question_and_scores_them(spider_dir, tiny, tmp_path):
    preds, report = tmp_path / "out" / "preds.txt", tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "eval",
        "--model",
        str(tiny),
        "--dataset",
        str(spider_dir),
    ]
    result = subprocess.run(
        [*command, "--split", "dev", "--limit", "3", "--out", str(preds), "--report", str(report)]
        + ["--constrain", "identifiers"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SQLDISTILL_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = preds.read_text().splitlines()
    assert len(lines) == 3 and all(line.strip() and "\n" not in line for line in lines)
    scored = json.loads(report.read_text())
    assert scored["accuracy"]["total"] == 3 and len(scored["queries"]) == 3
    assert scored["constrain"] == "identifiers"  # the report says how its SQL was written
    assert "predictions:" in result.stdout and "constrain identifiers" in result.stdout
    bad = subprocess.run(
        [*command, "--split", "nope", "--out", str(preds)], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "unknown split" in bad.stdout
    fp32 = subprocess.run(
        [*command, "--limit", "2", "--precision", "fp32", "--out", str(preds)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SQLDISTILL_HOME": str(tmp_path / "home")},
    )
    assert fp32.returncode == 0 and len(preds.read_text().splitlines()) == 2, fp32.stdout + fp32.stderr
    wrong = subprocess.run(
        [*command, "--precision", "int4", "--out", str(preds)], capture_output=True, text=True, timeout=120
    )
    assert wrong.returncode == 2 and "precision must be one of" in wrong.stdout
    loose = subprocess.run(
        [*command, "--constrain", "loose", "--out", str(preds)], capture_output=True, text=True, timeout=120
    )
    assert loose.returncode == 2 and "--constrain must be one of off, identifiers, full" in loose.stdout


def _eval(*args: str, home=None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "SQLDISTILL_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "eval", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_eval_with_samples_reports_greedy_and_voted_accuracy_side_by_side(spider_dir, tiny, tmp_path):
    preds, report = tmp_path / "preds.txt", tmp_path / "report.json"
    model = ["--model", str(tiny), "--dataset", str(spider_dir)]
    result = _eval(
        *model,
        "--limit",
        "2",
        "--samples",
        "3",
        "--out",
        str(preds),
        "--report",
        str(report),
        home=tmp_path / "home",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EX voted (3)" in result.stdout and "voted vs greedy" in result.stdout
    scored = json.loads(report.read_text())
    assert (
        scored["samples"] == 3
        and scored["voted_accuracy"]["total"] == 2
        and len(scored["voted_queries"]) == 2
    )
    # the samples that voted are kept, so another voting rule can be scored on them later
    sampled = scored["sampled_sql"]
    assert [q["id"] for q in sampled] == [q["id"] for q in scored["queries"]]
    assert all(set(q) == {"id", "greedy", "samples"} and isinstance(q["samples"], list) for q in sampled)
    assert len(preds.with_suffix(".voted.txt").read_text().splitlines()) == 2
    refused = _eval(*model, "--samples", "65", "--out", str(preds), timeout=120)
    assert refused.returncode == 2 and "--samples must be within" in refused.stdout


def test_voted_predictions_take_the_majority_answer_and_the_greedy_one_on_a_tie(spider_dir):
    from cli.predict import voted_predictions
    from services.critic.logic import Critic, PredictionIn
    from services.critic.sandbox_pool import SandboxPool

    critic = Critic(Catalogue.load(spider_dir), SandboxPool(workers=1))
    forty = "SELECT name FROM singer WHERE age > 40"
    try:
        predictions = [
            PredictionIn("outvoted", "concert", forty, "SELECT name FROM singer"),
            PredictionIn("tie", "concert", forty, "SELECT count(*) FROM singer"),
            PredictionIn("nothing-sampled", "concert", forty, "SELECT 1"),
        ]
        sampled = [[forty, "SELECT name FROM singer WHERE 40 < age", "broken SQL"], [forty], []]
        voted = voted_predictions(critic, predictions, sampled, test_suite=False)
    finally:
        critic.close()
    assert [p.predicted_sql for p in voted] == [forty, "SELECT count(*) FROM singer", "SELECT 1"]
    assert [p.id for p in voted] == [p.id for p in predictions]


def test_eval_scores_a_bird_folder_with_birds_semantics_by_difficulty(tiny, tmp_path):
    from testbed.databases import BIRD_DISAGREEMENTS, BIRD_EXAMPLES, make_bird_dir

    bird = make_bird_dir(tmp_path / "bird")
    gold = bird / "dev.json"
    # Predictions: two where the metrics disagree, then the gold SQL itself.
    predicted = [sql for sql, _ in BIRD_DISAGREEMENTS] + [s for _d, _q, _e, s, _l in BIRD_EXAMPLES[2:]]
    pred = tmp_path / "pred.json"
    pred.write_text(
        json.dumps(
            {str(i): f"{sql}\t----- bird -----\t{BIRD_EXAMPLES[i][0]}" for i, sql in enumerate(predicted)}
        )
    )
    scores = {}
    for metric in ("spider", "bird"):
        report = tmp_path / f"{metric}.json"
        result = _eval(
            "--gold",
            str(gold),
            "--pred",
            str(pred),
            "--db-dir",
            str(bird),
            "--metric",
            metric,
            "--report",
            str(report),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        scores[metric] = [q["execution_match"] for q in json.loads(report.read_text())["queries"]]
    assert [(s, b) for s, b in zip(scores["spider"], scores["bird"], strict=True)][:2] == [
        m for _, m in BIRD_DISAGREEMENTS
    ]
    assert all(scores["bird"][2:]) and all(scores["spider"][2:])
    assert "difficulty" in result.stdout and "challenging" in result.stdout
    refused = _eval(
        "--gold", str(gold), "--pred", str(pred), "--db-dir", str(bird), "--metric", "bird", "--test-suite"
    )
    assert refused.returncode == 2 and "bird metric has none" in refused.stdout

    # A model's predictions for a BIRD split: prompts carry the evidence, the file is BIRD's format.
    out = tmp_path / "predict_dev.json"
    model = _eval(
        "--model",
        str(tiny),
        "--dataset",
        str(bird),
        "--limit",
        "2",
        "--metric",
        "bird",
        "--out",
        str(out),
        home=tmp_path / "home",
    )
    assert model.returncode == 0, model.stdout + model.stderr
    written = json.loads(out.read_text())
    assert list(written) == ["0", "1"] and all("\t----- bird -----\tconcert" in v for v in written.values())
