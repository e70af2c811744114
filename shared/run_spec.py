"""A RunSpec message from plain fields - a YAML run spec, `sqldistill run`'s flags, a benchmark's
dict, or the controller's filled-in settings - and the list of its fields, read from the message
itself so a field added to controller.proto is settable everywhere at once. Only the fields given
travel: the controller fills the rest (services/controller/settings.py holds every run default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from google.protobuf.descriptor import FieldDescriptor

from shared import pb
from shared.pb import common_pb2, controller_pb2
from shared.pbconvert import enum_number

MODEL_REFS = ("base_model", "teacher_model")  # a ModelRef in the message, its path as a field
SAMPLING_FIELDS = ("temperature", "top_p", "max_new_tokens")  # of SamplingParams, set per run


def spec_fields() -> dict[str, FieldDescriptor]:
    """Every settable field by its plain name: RunSpec's own, with `sampling` flattened into the
    SamplingParams fields a run sets and each ModelRef standing for its path."""
    fields: dict[str, FieldDescriptor] = {}
    for field in controller_pb2.RunSpec.DESCRIPTOR.fields:
        if field.name == "sampling":
            fields.update({name: field.message_type.fields_by_name[name] for name in SAMPLING_FIELDS})
        else:
            fields[field.name] = field
    return fields


def spec_field_help() -> dict[str, str]:
    """Each settable field's description, as its .proto comment says it (compiled by `make protos`
    into shared/pb/.../field_docs.json): the one text behind `sqldistill run --help`."""
    docs = json.loads((Path(pb.__file__).parent / "sqldistill" / "v1" / "field_docs.json").read_text())
    own = docs[controller_pb2.RunSpec.DESCRIPTOR.full_name]
    sampling = docs[common_pb2.SamplingParams.DESCRIPTOR.full_name]
    return {name: (sampling if name in SAMPLING_FIELDS else own).get(name, "") for name in spec_fields()}


def read_spec_file(path: Path) -> dict[str, Any]:
    """A YAML mapping of RunSpec fields, flattened as spec_fields names them (`sampling: {...}` and
    `base_model: {path: ...}` are accepted as the message writes them)."""
    loaded = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of RunSpec fields")
    for key in MODEL_REFS:
        if isinstance(loaded.get(key), dict):
            loaded[key] = loaded[key].get("path", "")
    loaded.update(loaded.pop("sampling", None) or {})
    return loaded


def run_spec_message(fields: dict[str, Any]) -> controller_pb2.RunSpec:
    """A RunSpec carrying exactly these fields; ValueError naming any field RunSpec does not have."""
    known = spec_fields()
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(f"unknown fields {', '.join(unknown)}")
    spec = controller_pb2.RunSpec()
    for name, value in fields.items():
        if name in MODEL_REFS:
            getattr(spec, name).CopyFrom(common_pb2.ModelRef(path=value))
        elif name in SAMPLING_FIELDS:
            setattr(spec.sampling, name, value)
        elif name == "db_ids":
            spec.db_ids.extend(value)
        elif name == "complexity_mix":
            spec.complexity_mix.update(value)
        elif name == "mode":
            spec.mode = enum_number(controller_pb2.RunMode, value)
        else:
            setattr(spec, name, value)
    return spec


def build_run_spec(spec_file: Path | None, overrides: dict[str, Any]) -> controller_pb2.RunSpec:
    """A YAML file of RunSpec fields, then overrides (flags): only what the user set travels."""
    fields = read_spec_file(spec_file) if spec_file else {}
    fields.update(overrides)
    return run_spec_message(fields)
