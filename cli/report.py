"""`sqldistill report`: a Markdown report of a run with a PNG plot (matplotlib), built from the
controller's API: accuracy per round, kept/generated per round, examples of kept and rejected pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli.format import accuracy_text, comparison_cells, mode_text, outcome_text, state_text, step_text
from shared.limits import FEW_GATE_QUESTIONS
from shared.pb import controller_pb2
from shared.sql import HARDNESS_LEVELS


def _plot(rounds: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numbers = [r.number for r in rounds]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for accuracies, style, label, shift in (
        ([r.accuracy for r in rounds], "o-", "EX, new version (95% CI)", 0.04),
        ([r.serving_accuracy for r in rounds], "s--", "EX, serving version (95% CI)", -0.04),
    ):
        values = [a.execution for a in accuracies]
        errors = [
            [max(0.0, a.execution - a.execution_low) if a.total else 0.0 for a in accuracies],
            [max(0.0, a.execution_high - a.execution) if a.total else 0.0 for a in accuracies],
        ]
        top.errorbar([n + shift for n in numbers], values, yerr=errors, fmt=style, capsize=4, label=label)
    if any(r.accuracy.test_suite for r in rounds):
        top.plot(numbers, [r.accuracy.test_suite for r in rounds], "^-", label="TS, new version")
        top.plot(numbers, [r.serving_accuracy.test_suite for r in rounds], "v--", label="TS, serving version")
    for r in rounds:
        if r.outcome:
            top.annotate(
                outcome_text(r.outcome).replace("_", " "),
                (r.number, r.accuracy.execution),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
            )
    top.set_ylabel("held-out accuracy")
    top.set_ylim(0, 1)
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    width = 0.35
    bottom.bar([n - width / 2 for n in numbers], [r.generated for r in rounds], width, label="generated")
    bottom.bar([n + width / 2 for n in numbers], [r.kept for r in rounds], width, label="kept")
    bottom.set_xlabel("round")
    bottom.set_ylabel("candidates")
    bottom.set_xticks(numbers)
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3, axis="y")
    fig.suptitle("sqldistill: accuracy and kept candidates per round")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def build_report(stub: Any, run_id: str, out_dir: Path, examples: int = 8) -> Path:
    """Write out_dir/report.md and out_dir/accuracy.png; returns the Markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run = stub.GetRun(controller_pb2.RunRef(run_id=run_id))
    rounds = list(stub.ListRounds(controller_pb2.RunRef(run_id=run_id)).rounds)
    kept = stub.ListCandidates(
        controller_pb2.ListCandidatesRequest(run_id=run_id, kept=True, limit=examples)
    ).candidates
    rejected = stub.ListCandidates(
        controller_pb2.ListCandidatesRequest(run_id=run_id, kept=False, limit=examples)
    ).candidates
    plot = out_dir / "accuracy.png"
    if rounds:
        _plot(rounds, plot)
    spec = run.spec
    lines = [
        f"# sqldistill run {run.run_id}" + (f" ({run.name})" if run.name else ""),
        "",
        f"State **{state_text(run.state)}**; serving version **{run.serving_version}**. Mode {mode_text(spec.mode)}, {'continuous' if spec.continuous else spec.rounds} rounds, "
        f"base model `{spec.base_model.path or 'default'}`, evaluation split `{spec.eval_split}`"
        f"{f' (first {spec.eval_limit})' if spec.eval_limit else ''}, test suites {'on' if spec.test_suite else 'off'}, "
        f"gate: {spec.gate_mode} mode, margin {spec.gate_margin}"
        f"{f', alpha {spec.gate_alpha}' if spec.gate_mode == 'significant' else ''}; base prompt "
        f"{spec.few_shot_k}-shot, trained versions {spec.train_few_shot_k}-shot.",
        "",
        "## Rounds",
        "",
        "EX with its 95% interval. The gain is the gate's: paired on the same held-out questions, in TS when",
        "test suites are on (else EX); wins = questions only the new version answers, losses = only the",
        "serving one; exact McNemar p.",
        "",
        "| round | step | outcome | generated | kept | version | EX new | EX serving | TS new | TS serving "
        "| wins/losses | gain (95% CI) | McNemar p |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.number} | {step_text(r.step)} | {outcome_text(r.outcome) or '-'} | {r.generated} | {r.kept} | {r.model_version or '-'} | "
            f"{accuracy_text(r.accuracy)} | {accuracy_text(r.serving_accuracy)} | {r.accuracy.test_suite:.3f} | "
            f"{r.serving_accuracy.test_suite:.3f} | " + " | ".join(comparison_cells(r.comparison)) + " |"
        )
    lines += gate_notes(rounds)
    if rounds:
        lines += ["", f"![accuracy and kept candidates per round]({plot.name})"]
        by_level = {level: acc for r in rounds[-1:] for level, acc in r.accuracy.by_hardness.items()}
        if by_level:
            lines += [
                "",
                "Last round's new version by hardness:",
                "",
                "| hardness | count | EX | TS |",
                "|---|---|---|---|",
            ]
            for level in HARDNESS_LEVELS:
                if level in by_level:
                    a = by_level[level]
                    lines.append(f"| {level} | {a.total} | {a.execution:.3f} | {a.test_suite:.3f} |")
    lines += log_section(stub, run, out_dir)
    for title, items in (("Kept pairs (examples)", kept), ("Rejected pairs (examples) and why", rejected)):
        lines += [
            "",
            f"## {title}",
            "",
            "| round | source | database | question | SQL | reasons |",
            "|---|---|---|---|---|---|",
        ]
        for c in items:
            lines.append(
                f"| {c.round} | {c.source} | {c.db_id} | {_escape(c.question)} | `{_escape(c.sql)}` | "
                f"{_escape('; '.join(c.reasons)) or '-'} |"
            )
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def gate_notes(rounds: list[Any]) -> list[str]:
    """Under the rounds table: which gates ran without gold (and their two signals), and how small
    a difference each gate could see on its question count (a warning under 100 questions)."""
    notes = []
    for r in rounds:
        c = r.comparison
        if not c.questions and not c.gold_free:
            continue
        text = f"- round {r.number}: "
        if c.gold_free and c.gate_free_method == "review":
            reviewer = "base model" if c.gate_reviewer == "base" else "serving version"
            text += (
                f"gold-free gate by review - on {c.gate_questions} held-out questions, an answer that runs "
                f"beat one that fails, and the {reviewer} judged the {c.reviewed} the two answered "
                f"with different results; answers that execute {c.new_executes:.3f} new vs "
                f"{c.serving_executes:.3f} serving; "
            )
        elif c.gold_free:
            text += (
                f"gold-free gate by vote - wins/losses against pseudo-labels on {c.pseudo_labelled} of "
                f"{c.gate_questions} held-out questions (those whose pooled samples agreed); answers "
                f"that execute {c.new_executes:.3f} new vs {c.serving_executes:.3f} serving; "
            )
        if c.questions:
            text += (
                f"smallest difference detectable on {c.questions} questions: {c.detectable_difference:.3f}"
            )
            if c.questions < FEW_GATE_QUESTIONS:
                text += f" (**a decision on fewer than {FEW_GATE_QUESTIONS} questions**)"
        notes.append(text)
    return ["", "Gate decisions:", "", *notes] if notes else []


def log_section(stub: Any, run: Any, out_dir: Path) -> list[str]:
    """The run's versions as the question log saw them, oldest first, with a plot: what people asked
    each, how often its answers ran and its samples agreed, their feedback, and EX on the log's
    held-out questions with a person's SQL. Empty when no one asked the run's versions anything."""
    models = stub.ListModels(controller_pb2.ListModelsRequest()).models
    trained = [m for m in models if m.run_id == run.run_id]
    parents = {m.parent for m in trained} - {m.version for m in trained}  # the version it began from
    ours = [m for m in models if (m.run_id == run.run_id or m.version in parents)]
    ours = [m for m in ours if m.asked.answered or m.asked.log_questions]
    if not ours:
        return []
    lines = [
        "",
        "## The question log",
        "",
        "Per version: questions people asked it, the share of its answers that ran, the mean agreement of",
        "its samples, feedback, and EX on the log's held-out questions with a person's SQL (its latest",
        "evaluation).",
        "",
        "| version | answered | ran | agreement | right / wrong | log questions | EX on the log |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in ours:
        a = m.asked
        lines.append(
            f"| {m.version} | {a.answered} | {a.executable:.3f} | {a.agreement:.3f} | {a.marked_right} / "
            f"{a.marked_wrong} | {a.log_questions} | {a.log_execution:.3f} |"
        )
    plot = out_dir / "question_log.png"
    _plot_log(ours, plot)
    return [*lines, "", f"![the question log per version]({plot.name})"]


def _plot_log(models: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = list(range(len(models)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(x, [m.asked.executable for m in models], "o-", label="answers that ran")
    top.plot(x, [m.asked.agreement for m in models], "s--", label="sample agreement")
    with_log = [(i, m.asked.log_execution) for i, m in zip(x, models, strict=True) if m.asked.log_questions]
    if with_log:
        top.plot(*zip(*with_log, strict=True), "^-", label="EX on held-out log questions")
    top.set_ylim(0, 1.05)
    top.set_ylabel("share")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.bar(x, [m.asked.answered for m in models], 0.5, label="answered")
    bottom.plot(x, [m.asked.marked_wrong for m in models], "rx", label="marked wrong")
    bottom.set_ylabel("asks")
    bottom.set_xticks(x, [m.version for m in models], rotation=20, fontsize=8)
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3, axis="y")
    fig.suptitle("sqldistill: the question log per version, oldest first")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
