"""Every default once: each RunSpec field has its default in exactly one place - RunSettings, or
shared/defaults.py when a service or the CLI applies the same default - and no other module of
services/, shared/, offline/ or cli/ writes that default again as a literal (where it would drift):
not as a parameter or field default, not as a call's keyword, not as a module constant, and not
under another name for the same setting (the names it goes by in messages and services)."""

from __future__ import annotations

import ast
from pathlib import Path

from services.controller.settings import RunSettings
from shared.pb import controller_pb2

REPO = Path(__file__).resolve().parents[2]

# The names a RunSpec field's value goes by in the services and the CLI.
ALIASES = {
    "few_shot_k": ("default_k",),
    "train_method": ("method",),
    "train_epochs": ("epochs",),
    "train_batch_size": ("batch_size",),
    "train_precision": ("precision",),
    "train_int8_base": ("int8_base",),
    "train_gradient_checkpointing": ("gradient_checkpointing",),
    "train_max_steps": ("max_steps",),
    "samples_per_question": ("samples",),
    "eval_samples": ("samples",),
}
CODE = ("services", "shared", "offline", "cli")
# Values that mean "unset" or "off", not a default: 0, "", False, None; top_p 1.0 is no nucleus cut.
SENTINELS = {0, "", None}
NEUTRAL = {("top_p", 1.0), ("eval_limit", "all")}  # eval_limit 0 reads "all" in a key


def _is_default_literal(name: str, value: ast.expr) -> bool:
    if not isinstance(value, ast.Constant) or (name, value.value) in NEUTRAL:
        return False
    return not (value.value in SENTINELS and type(value.value) in (int, float, str, bool, type(None)))


def literal_defaults(tree: ast.AST) -> list[tuple[str, int, ast.expr]]:
    """(name, line, value) of every default bound to a name: parameter defaults, class-level
    annotated fields and `x.name or <literal>` fallbacks."""
    found = []
    for node in ast.walk(tree):
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs += zip(
                [a.arg for a in positional[len(positional) - len(args.defaults) :]],
                args.defaults,
                strict=True,
            )
            pairs += [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            pairs.append((node.target.id, node.value))
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            left = node.values[0]
            if isinstance(left, ast.Attribute | ast.Name):
                pairs.append((left.attr if isinstance(left, ast.Attribute) else left.id, node.values[1]))
        found += [(name, value.lineno, value) for name, value in pairs if _is_default_literal(name, value)]
    return found


def _code_literals() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in _code_files():
        for name, line, value in literal_defaults(ast.parse(path.read_text())):
            out.setdefault(name, []).append(f"{path.relative_to(REPO)}:{line} = {ast.unparse(value)}")
    return out


def _code_files() -> list[Path]:
    return [
        path
        for folder in CODE
        for path in sorted((REPO / folder).rglob("*.py"))
        if "pb" not in path.relative_to(REPO).parts
    ]


def repeated_values(tree: ast.AST, names: dict[str, str], values: dict[str, object]) -> list[tuple[int, str]]:
    """(line, text) of each place a setting's default value is written again under one of its names
    (`names`: name -> setting): a call's keyword (`Sampling(top_p=0.95)`) or a module constant whose
    name holds the setting's name (`DEFAULT_MIN_SHARE = 0.5` for min_share)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for k in node.keywords:
                setting = names.get(k.arg or "")
                if setting and isinstance(k.value, ast.Constant) and _same(k.value.value, values[setting]):
                    found.append((k.value.lineno, f"{k.arg}={ast.unparse(k.value)}"))
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
            if not isinstance(value, ast.Constant):
                continue
            for name, setting in names.items():
                if name.upper() in target and _same(value.value, values[setting]):
                    found.append((node.lineno, f"{target} = {ast.unparse(value)}"))
    return found


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b and a not in SENTINELS and a is not False


def _run_spec_fields() -> set[str]:
    names = set()
    for field in controller_pb2.RunSpec.DESCRIPTOR.fields:
        if field.name == "sampling":
            names |= {f.name for f in field.message_type.fields if f.name in RunSettings.field_names()}
        else:
            names.add(field.name)
    return names


def test_every_run_spec_field_has_its_default_in_run_settings():
    assert _run_spec_fields() == set(RunSettings.field_names())


def test_each_run_spec_default_is_written_once():
    literals = _code_literals()
    settings_tree = ast.parse((REPO / "services/controller/settings.py").read_text())
    declared = {
        n.target.id: n.value
        for n in ast.walk(settings_tree)
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None
    }
    problems = []
    for name in sorted(RunSettings.field_names()):
        places = [p for alias in (name, *ALIASES.get(name, ())) for p in literals.get(alias, [])]
        if len(places) > 1:
            problems.append(f"{name}: written {len(places)} times: {places}")
        value = declared[name]
        shared = isinstance(value, ast.Attribute) and ast.unparse(value).startswith("defaults.")
        if not places and not shared and _is_default_literal(name, value):
            problems.append(f"{name}: default neither in RunSettings nor in shared/defaults.py")
    assert problems == []


def test_the_scanner_sees_each_way_of_writing_a_default():
    sample = ast.parse(
        "def f(max_new_tokens=128, seed=0, top_p=1.0): pass\n"
        "class C:\n    epochs: int = 3\n    name: str = ''\n"
        "x = message.temperature or 0.8\n"
    )
    assert sorted((n, ast.unparse(v)) for n, _, v in literal_defaults(sample)) == [
        ("epochs", "3"),
        ("max_new_tokens", "128"),
        ("temperature", "0.8"),
    ]


def test_no_setting_default_is_repeated_as_a_keyword_or_a_module_constant():
    values = RunSettings().to_dict()
    names = {name: name for name in RunSettings.field_names()}
    names |= {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    names |= {"min_share": "majority_share", "min_votes": "majority_min_votes"}  # a rename would hide here
    problems = [
        f"{path.relative_to(REPO)}:{line}: {text}"
        for path in _code_files()
        if path.relative_to(REPO).as_posix() not in ("shared/defaults.py", "services/controller/settings.py")
        for line, text in repeated_values(ast.parse(path.read_text()), names, values)
    ]
    assert problems == []


def test_the_repeat_scanner_sees_a_keyword_and_a_constant():
    sample = ast.parse("DEFAULT_MIN_SHARE = 0.5\nx = Sampling(top_p=0.95, temperature=0.0)\nTOP_P = 1.0\n")
    names = {"top_p": "top_p", "temperature": "temperature", "min_share": "majority_share"}
    values = {"top_p": 0.95, "temperature": 0.7, "majority_share": 0.5}
    assert [text for _, text in repeated_values(sample, names, values)] == [
        "top_p=0.95",
        "DEFAULT_MIN_SHARE = 0.5",
    ]
