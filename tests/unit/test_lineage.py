"""A lineage is its base model, however the run named it: the packaged default sent as "" or as its
alias is one lineage, with one serving version, and a run stored before a setting existed resumes
with what it began with."""

from __future__ import annotations

from services.controller.enums import VersionStatus
from services.controller.settings import RunSettings
from services.controller.versions import base_version_id, serving_of, set_serving
from shared.defaults import DEFAULT_MODEL_ALIAS
from shared.run_spec import build_run_spec
from shared.store import ModelVersion, Store


def test_the_default_models_alias_is_stored_as_the_default():
    named = RunSettings.from_message(build_run_spec(None, {"base_model": DEFAULT_MODEL_ALIAS}))
    assert named.base_model == "" == RunSettings().base_model
    other = RunSettings.from_message(build_run_spec(None, {"base_model": "/models/mine"}))
    assert other.base_model == "/models/mine"
    teacher = RunSettings.from_message(build_run_spec(None, {"teacher_model": DEFAULT_MODEL_ALIAS}))
    assert teacher.teacher_model == DEFAULT_MODEL_ALIAS  # a teacher named so is still a teacher


def test_a_version_serving_for_the_default_stays_serving_whichever_way_it_is_named(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    with store.session() as s:
        # the base row and a trained version stored by a run that sent no base model ("")
        s.add(
            ModelVersion(version=base_version_id(""), base="", artifact_path="", status=VersionStatus.RETIRED)
        )
        s.add(ModelVersion(version="v1", base="", artifact_path="/v1", status=VersionStatus.SERVING))
        s.add(
            ModelVersion(
                version="mine-v1", base="/models/mine", artifact_path="/m", status=VersionStatus.SERVING
            )
        )
    with store.session() as s:
        assert serving_of(s, DEFAULT_MODEL_ALIAS).version == "v1" == serving_of(s, "").version
        assert serving_of(s, "/models/mine").version == "mine-v1"
        assert serving_of(s, "/models/other") is None
        # an older row that stored the alias itself belongs to the same lineage: serving it retires v1
        s.add(
            ModelVersion(
                version="v0", base=DEFAULT_MODEL_ALIAS, artifact_path="/v0", status=VersionStatus.RETIRED
            )
        )
        s.flush()
        set_serving(s, "v0")
    with store.session() as s:
        statuses = {v.version: v.status for v in s.query(ModelVersion)}
    store.close()
    assert statuses["v0"] == VersionStatus.SERVING and statuses["v1"] == VersionStatus.RETIRED
    assert statuses["mine-v1"] == VersionStatus.SERVING  # another lineage: untouched


def test_a_run_stored_before_a_setting_existed_resumes_as_it_began():
    stored = RunSettings().to_dict()
    for name in ("label_review", "generate_precision", "gate_free_method", "gate_reviewer"):
        stored.pop(name)
    resumed = RunSettings.from_dict(stored)
    assert (resumed.label_review, resumed.generate_precision) == (False, "")
    assert (resumed.gate_free_method, resumed.gate_reviewer) == ("vote", "serving")
    assert RunSettings.from_dict(RunSettings().to_dict()) == RunSettings()  # stored today: today's
