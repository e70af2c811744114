"""`sqldistill eval --model`: predictions for a Spider-format split by any model (a stored version id,
a version folder, or a plain model), one SQL per line, scored by the critic; and how each kind of
model is resolved to what loads and the prompt it is asked with."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from offline.models import UnknownModel, resolve_eval_model
from shared.catalogue import Catalogue
from shared.defaults import FEW_SHOT_K as DEFAULT_BASE_SHOTS
from shared.fewshot import few_shot_pool
from shared.prompts import SQL_MARK
from shared.store import ModelVersion, Store
from testbed.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "base")


PARROTED = "SELECT count(*) FROM singer"  # right for dev-0, wrong for dev-1


@pytest.fixture(scope="module")
def parrot(tiny, tmp_path_factory):
    """A tiny model that answers every SQL prompt with PARROTED, greedy or sampled. The random tiny
    model's samples are rarely SQL and are dropped, so it cannot show that samples were taken."""
    return _parrot_model(tiny, tmp_path_factory.mktemp("parrot") / "model", PARROTED)


def _parrot_model(tiny, folder, sql):
    """A tiny model whose every completion of a SQL prompt (a repair prompt too) is `sql`."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = AutoConfig.from_pretrained(tiny)
    config.tie_word_embeddings = False
    model = LlamaForCausalLM(config)
    # A bigram chain: attention and MLP add nothing, so the next token depends on the last one alone;
    # the last token of the prompt's "-- SQL:" leads through " <sql>;" to end of text, by a logit
    # margin (about 57) no sampling temperature crosses.
    mark = tokenizer(SQL_MARK, add_special_tokens=False)["input_ids"]
    chain = tokenizer(f"{SQL_MARK} {sql};", add_special_tokens=False)["input_ids"][len(mark) - 1 :]
    chain.append(tokenizer.eos_token_id)
    assert len(set(chain)) == len(chain) <= config.hidden_size
    with torch.no_grad():
        model.model.embed_tokens.weight.zero_()
        model.lm_head.weight.zero_()
        for i, (token, following) in enumerate(zip(chain[:-1], chain[1:], strict=True)):
            model.model.embed_tokens.weight[token, i] = 1.0
            model.lm_head.weight[following, i] = 10.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


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
    # An allowed id on a machine without the hub: one try, one line. huggingface_hub reads the
    # variable once, at import, so its constant is patched too (restored after the test).
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
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


def test_eval_with_samples_reports_greedy_and_voted_accuracy_side_by_side(spider_dir, parrot, tmp_path):
    preds, report = tmp_path / "preds.txt", tmp_path / "report.json"
    model = ["--model", str(parrot), "--dataset", str(spider_dir)]
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
    assert all(set(q) == {"id", "greedy", "samples", "repairs"} and q["repairs"] == [] for q in sampled)
    # every question was sampled, as many times as asked (duplicates kept: they are votes)
    assert [(q["greedy"], q["samples"]) for q in sampled] == [(PARROTED, [PARROTED] * 3)] * 2
    # the voted report agrees with itself and with the votes: each answer is the unanimous one, so
    # each question scores as greedy did (right on dev-0, wrong on dev-1)
    voted = scored["voted_queries"]
    assert (
        [(q["id"], q["execution_match"], q["error"]) for q in voted]
        == [(q["id"], q["execution_match"], q["error"]) for q in scored["queries"]]
        == [("dev-0", True, ""), ("dev-1", False, "")]
    )
    assert scored["voted_accuracy"]["execution"] == scored["accuracy"]["execution"] == 0.5
    assert preds.with_suffix(".voted.txt").read_text().splitlines() == [PARROTED] * 2
    assert "0 wins, 0 losses" in result.stdout
    refused = _eval(*model, "--samples", "65", "--out", str(preds), timeout=120)
    assert refused.returncode == 2 and "--samples must be within" in refused.stdout


def test_eval_with_repair_scores_repaired_answers_beside_greedy_ones(spider_dir, tiny, tmp_path):
    """A model that always writes SQL naming a missing table: every answer fails and its repair writes
    the same SQL again, which is dropped - the report says no answer was repaired, and both columns
    score the failing SQL."""
    broken = "SELECT count(*) FROM singers"
    model = ["--model", str(_parrot_model(tiny, tmp_path / "broken", broken)), "--dataset", str(spider_dir)]
    preds, report = tmp_path / "preds.txt", tmp_path / "report.json"
    result = _eval(
        *model,
        "--limit",
        "2",
        "--repair",
        "1",
        "--out",
        str(preds),
        "--report",
        str(report),
        home=tmp_path / "h",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EX voted (0 + repair)" in result.stdout
    scored = json.loads(report.read_text())
    assert [(q["greedy"], q["repairs"]) for q in scored["sampled_sql"]] == [(broken, [])] * 2
    assert scored["voted_accuracy"]["execution"] == scored["accuracy"]["execution"] == 0.0
    refused = _eval(*model, "--repair", "9", "--out", str(preds), timeout=120)
    assert refused.returncode == 2 and "--repair must be within [0, 4]" in refused.stdout


def test_voted_predictions_take_the_majority_answer_and_the_greedy_one_on_a_tie(spider_dir):
    from offline.evaluation import evaluate, open_critic
    from services.critic.logic import PredictionIn
    from shared.answering import Answer

    critic = open_critic(Catalogue.load(spider_dir), workers=1)
    forty = "SELECT name FROM singer WHERE age > 40"
    try:
        predictions = [
            PredictionIn("outvoted", "concert", forty, "SELECT name FROM singer"),
            PredictionIn("tie", "concert", forty, "SELECT count(*) FROM singer"),
            PredictionIn("nothing-sampled", "concert", forty, "SELECT 1"),
        ]
        sampled = [[forty, "SELECT name FROM singer WHERE 40 < age", "broken SQL"], [forty], []]
        answers = [
            Answer(p.predicted_sql, p.predicted_sql, more)
            for p, more in zip(predictions, sampled, strict=True)
        ]
        evaluation = evaluate(critic, predictions, answers)
    finally:
        critic.close()
    voted = evaluation.voted.predictions
    assert [p.predicted_sql for p in voted] == [forty, "SELECT count(*) FROM singer", "SELECT 1"]
    assert [s.execution_match for s in evaluation.voted.scores] == [True, False, False]
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


def test_the_gate_agreement_benchmark_decides_both_gates_on_one_pair(spider_dir, parrot, tiny, tmp_path):
    """benchmarks/gate_agreement.py: the gold gate and the gold-free gate on the same pair, in process.
    The parrot answers dev-0 right and dev-1 wrong; the random tiny model writes no usable SQL."""
    out = tmp_path / "agreement.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.gate_agreement",
            "--candidate",
            str(parrot),
            "--serving",
            str(tiny),
            "--dataset",
            str(spider_dir),
            "--limit",
            "2",
            "--samples",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SQLDISTILL_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    document = json.loads(out.read_text())
    assert (document["gold"]["wins"], document["gold"]["losses"], document["questions"]) == (1, 0, 2)
    assert document["gold"]["roll_out"] is True  # margin gate: +0.5 on two questions
    free = document["gold_free"]
    # The serving model wrote nothing to pool with, so no question has a pseudo-label: no decision.
    assert free["pseudo_labelled"] == 0 and free["roll_out"] is False and document["agree"] is False
    assert free["candidate_executes"] == 1.0 and free["serving_executes"] < 1.0
    assert "gold_free" in result.stdout and "figures:" in result.stdout
