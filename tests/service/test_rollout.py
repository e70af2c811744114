"""Rollout: the embedded path against a real generation service, and the Kubernetes path against a
fake API server (named as such: no cluster here) that checks the exact requests."""

from __future__ import annotations

import pytest

from services.controller.calls import retrying
from services.controller.deployment import EmbeddedRollout, KubernetesRollout
from services.controller.errors import RolloutError
from services.controller.generation_client import GenerationClient
from services.controller.versions import ServedModel
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import common_pb2, generation_pb2, generation_pb2_grpc
from testbed.processes import start_service, stop_service
from testbed.tiny_models import make_tiny_model
from tests.support.fake_kube_api import FakeKubeApi


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


@pytest.fixture(scope="module")
def generation(tmp_path_factory, spider_dir, tiny):
    service = start_service(
        "generation",
        tmp_path_factory.mktemp("gen"),
        dataset=spider_dir,
        extra_env={"SQLDISTILL_GENERATION__MODEL": str(tiny), "SQLDISTILL_GENERATION__VERSION": "v0"},
    )
    stub = DeadlineStub(generation_pb2_grpc.GenerationServiceStub(make_channel(service.target)), 60)
    yield GenerationClient(stub, retrying())
    stop_service(service)


def test_embedded_rollout_failure_restores_the_previous_version(generation, tiny, tmp_path):
    rollout = EmbeddedRollout(generation)
    previous = ServedModel("v0", str(tiny))
    rollout.apply(ServedModel("v1", str(tiny)), previous)
    assert rollout.serving_version() == "v1"
    with pytest.raises(RolloutError, match="rollout of v2 failed"):
        rollout.apply(
            ServedModel("v2", str(tiny), str(tmp_path / "no-adapter-here")), ServedModel("v1", str(tiny))
        )
    assert rollout.serving_version() == "v1"  # unchanged


def _deployment(name: str, version: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "generation": 1,
            "labels": {"app.kubernetes.io/name": "sqldistill", "sqldistill.io/role": "serving"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "g"}},
            "template": {
                "metadata": {"labels": {"app": "g"}},
                "spec": {
                    "containers": [
                        {
                            "name": "generation",
                            "image": "sqldistill",
                            "env": [{"name": "SQLDISTILL_GENERATION__VERSION", "value": version}],
                        }
                    ]
                },
            },
        },
        "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
    }


def _env(deployment: dict) -> dict:
    return {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_kubernetes_rollout_against_a_fake_api_server_patches_waits_and_confirms():
    api = FakeKubeApi()
    api.deployments["sqldistill-generation"] = _deployment("sqldistill-generation", "v0")
    api.deployments["unrelated"] = {
        **_deployment("unrelated", "x"),
        "metadata": {"name": "unrelated", "labels": {"app": "other"}},
    }
    served = {"version": "v0"}

    class Generation:  # what the new pods report once rolled out (the fake API "restarts" them)
        def DescribeModel(self, request, timeout=None):  # noqa: N802 - gRPC stub naming
            return generation_pb2.ModelInfo(version=served["version"])

    def roll(name: str, deployment: dict) -> None:  # the fake cluster finishes each rollout at once
        deployment["status"] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": 2,
        }
        served["version"] = _env(deployment)["SQLDISTILL_GENERATION__VERSION"]

    api.on_patch = roll
    try:
        from kubernetes import client

        apps = client.AppsV1Api(api.api_client())
        rollout = KubernetesRollout(
            "ml",
            "app.kubernetes.io/name=sqldistill,sqldistill.io/role=serving",
            GenerationClient(Generation(), retrying()),
            apps_api=apps,
            timeout_seconds=5,
            poll_seconds=0.05,
        )
        rollout.apply(
            ServedModel("v1", "/data/models/base/m", "/data/models/versions/v1"),
            ServedModel("v0", "/data/models/base/m"),
        )
        listing, patch = api.requests[0], api.requests[1]
        assert (listing["method"], listing["path"]) == ("GET", "/apis/apps/v1/namespaces/ml/deployments")
        assert listing["query"]["labelSelector"] == [
            "app.kubernetes.io/name=sqldistill,sqldistill.io/role=serving"
        ]
        assert (patch["method"], patch["path"]) == (
            "PATCH",
            "/apis/apps/v1/namespaces/ml/deployments/sqldistill-generation",
        )
        assert patch["content_type"].startswith("application/strategic-merge-patch+json")
        env = {
            e["name"]: e["value"] for e in patch["body"]["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env == {
            "SQLDISTILL_GENERATION__VERSION": "v1",
            "SQLDISTILL_GENERATION__MODEL": "/data/models/base/m",
            "SQLDISTILL_GENERATION__ADAPTER": "/data/models/versions/v1",
        }
        assert any(r["path"].endswith("/sqldistill-generation/status") for r in api.requests[2:])
        assert _env(api.deployments["sqldistill-generation"])["SQLDISTILL_GENERATION__VERSION"] == "v1"
        assert "unrelated" not in [
            r["path"].rsplit("/", 1)[-1] for r in api.requests if r["method"] == "PATCH"
        ]

        # A rollout that never completes: timed out, patched back to the previous version.
        api.on_patch = lambda name, d: (
            None if _env(d)["SQLDISTILL_GENERATION__VERSION"] == "v2" else roll(name, d)
        )
        with pytest.raises(RolloutError, match="did not finish rolling out"):
            rollout.apply(
                ServedModel("v2", "/data/models/base/m", "/data/models/versions/v2"),
                ServedModel("v1", "/data/models/base/m", "/data/models/versions/v1"),
            )
        patches = [r for r in api.requests if r["method"] == "PATCH"]
        assert [
            p["body"]["spec"]["template"]["metadata"]["annotations"]["sqldistill.io/model-version"]
            for p in patches
        ] == ["v1", "v2", "v1"]
        assert (
            _env(api.deployments["sqldistill-generation"])["SQLDISTILL_GENERATION__VERSION"] == "v1"
            and served["version"] == "v1"
        )

        # Ambiguous selection is refused before anything is patched.
        api.deployments["second"] = _deployment("second", "v0")
        before = len(api.requests)
        with pytest.raises(RolloutError, match="expected one Deployment"):
            rollout.apply(ServedModel("v3", "m"), None)
        assert all(r["method"] == "GET" for r in api.requests[before:])
    finally:
        api.close()


def test_model_ref_of_a_served_model():
    ref = ServedModel("v1", "", "/models/v1").ref()
    assert ref == common_pb2.ModelRef(version="v1", path="default", adapter_path="/models/v1")


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_the_rollout_patches_the_deployment_the_manifests_really_define(overlay):
    """The fake API server (no kube-apiserver can run here) is loaded with exactly the objects
    `kubectl kustomize k8s/overlays/<overlay>` renders; the controller, configured from the rendered
    ConfigMap, must find and patch the serving Deployment, its real container, and keep its env."""
    import yaml

    from shared.config import Config
    from tests.support.k8s import render

    docs = render(overlay)
    config = Config(
        **yaml.safe_load(
            next(o for o in docs if o["kind"] == "ConfigMap" and "config.yaml" in o.get("data", {}))["data"][
                "config.yaml"
            ]
        )
    )
    api = FakeKubeApi()
    for doc in docs:
        if doc["kind"] == "Deployment":
            deployment = {**doc, "metadata": {**doc["metadata"], "generation": 1}}
            replicas = doc["spec"].get("replicas", 1)
            deployment["status"] = {
                "observedGeneration": 1,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": replicas,
            }
            api.deployments[doc["metadata"]["name"]] = deployment
    served = {"version": "v0"}

    def roll(name: str, deployment: dict) -> None:
        deployment["status"]["observedGeneration"] = deployment["metadata"]["generation"]
        served["version"] = _env(deployment)["SQLDISTILL_GENERATION__VERSION"]

    class Generation:  # what the rolled-out pods report
        def DescribeModel(self, request, timeout=None):  # noqa: N802 - gRPC stub naming
            return generation_pb2.ModelInfo(version=served["version"])

    api.on_patch = roll
    try:
        from kubernetes import client

        rollout = KubernetesRollout(
            config.controller.namespace,
            config.controller.serving_selector,
            GenerationClient(Generation(), retrying()),
            apps_api=client.AppsV1Api(api.api_client()),
            timeout_seconds=5,
            poll_seconds=0.05,
        )
        rendered = next(
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "sqldistill-generation"
        )
        before = {e["name"] for e in rendered["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        rollout.apply(ServedModel("v1", "/data/models/base/m", "/data/models/versions/v1"), None)
        patches = [r for r in api.requests if r["method"] == "PATCH"]
        assert [p["path"] for p in patches] == [
            f"/apis/apps/v1/namespaces/{config.controller.namespace}/deployments/sqldistill-generation"
        ]
        assert (
            rendered["metadata"].get("namespace", config.controller.namespace) == config.controller.namespace
        )
        patched_container = patches[0]["body"]["spec"]["template"]["spec"]["containers"][0]["name"]
        containers = api.deployments["sqldistill-generation"]["spec"]["template"]["spec"]["containers"]
        assert patched_container in [c["name"] for c in rendered["spec"]["template"]["spec"]["containers"]]
        assert len(containers) == len(rendered["spec"]["template"]["spec"]["containers"])  # merged, not added
        env = _env(api.deployments["sqldistill-generation"])
        assert env["SQLDISTILL_GENERATION__VERSION"] == "v1" and before <= set(env)
        assert served["version"] == "v1"
    finally:
        api.close()


def test_reject_restores_the_stored_serving_version_when_the_slot_holds_another(generation, tiny, tmp_path):
    """REJECT after something else changed what serves (here: v9 loaded behind the run's back): the
    store's serving version is loaded again through the step's typed client."""
    from services.controller.clients import ServiceClients
    from services.controller.settings import RunSettings
    from services.controller.steps.base import Context
    from services.controller.steps.rollout import Reject
    from shared.store import ModelVersion, Round, Run, Store

    generation.load(ServedModel("v9", str(tiny)))
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.session() as s:
            s.add(Run(id="r", lineage=str(tiny), spec={}, serving_version="v0"))
            s.add(ModelVersion(version="v0", base=str(tiny), artifact_path=""))
            s.add(ModelVersion(version="v1", base=str(tiny), artifact_path=""))
            s.flush()
            s.add(Round(run_id="r", number=1, step="REJECT", model_version="v1"))
        clients = ServiceClients(critic=None, generation=generation._stub, trainer=None)
        step = Reject(Context(store, clients, None, tmp_path, EmbeddedRollout(generation)))
        with store.session() as s:
            run = s.get(Run, "r")
        assert step.run(run, RunSettings(), 1)[1] == {"rolled_out": 0}
        assert generation.describe().version == "v0"
        with store.session() as s:
            assert s.get(ModelVersion, "v1").status == "rejected"
    finally:
        store.close()
