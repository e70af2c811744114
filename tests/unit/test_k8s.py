"""Kubernetes manifests, without a cluster: every rendered object validates against the Kubernetes
schema offline, and the policies hold (limits, non-root, probes, critic hardening, least RBAC)."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from shared.config import REPO_ROOT as REPO
from shared.config import Config
from tests.support.k8s import render

OVERLAYS = ("cpu", "gpu")
WORKLOADS = ("Deployment", "StatefulSet", "Job")
ALLOWED_RULES = {
    "sqldistill-trainer": {
        ("batch", "jobs"): {"create", "get", "list", "watch", "delete"},
        ("batch", "jobs/status"): {"get"},
        ("", "pods"): {"get", "list"},
        ("", "pods/log"): {"get"},
    },
    "sqldistill-controller": {
        ("apps", "deployments"): {"get", "list", "watch", "patch"},
        ("apps", "deployments/status"): {"get"},
    },
}


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request):
    return request.param, render(request.param)


def pod_specs(objects: list[dict]):
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            yield obj, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_every_object_validates_against_the_kubernetes_schema(objects):
    _overlay, docs = objects
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    kinds = {d["kind"] for d in docs}
    assert {
        "Namespace",
        "Deployment",
        "StatefulSet",
        "Service",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "NetworkPolicy",
    } <= kinds


def test_every_container_has_limits_runs_as_non_root_and_has_probes(objects):
    _overlay, docs = objects
    checked = list(pod_specs(docs))
    # Every workload of the base is checked: the four services' Deployments and the Job template.
    assert {"controller", "critic", "generation", "trainer", "sources-refresh"} <= {
        obj["metadata"]["name"].removeprefix("sqldistill-") for obj, _ in checked
    }
    for obj, spec in checked:
        pod_non_root = spec.get("securityContext", {}).get("runAsNonRoot")
        for container in spec["containers"]:
            where = f"{obj['metadata']['name']}/{container['name']}"
            limits = container.get("resources", {}).get("limits", {})
            assert "cpu" in limits and "memory" in limits, where
            assert pod_non_root or container.get("securityContext", {}).get("runAsNonRoot"), where
            assert container.get("securityContext", {}).get("allowPrivilegeEscalation") is False, where
            if obj["kind"] not in ("Job", "CronJob"):
                assert "readinessProbe" in container and "livenessProbe" in container, where


def test_the_critic_is_hardened_and_isolated(objects):
    _overlay, docs = objects
    critic = next(
        o for o in docs if o["kind"] == "Deployment" and o["metadata"]["name"] == "sqldistill-critic"
    )
    spec = critic["spec"]["template"]["spec"]
    assert (
        spec["securityContext"]["runAsNonRoot"]
        and spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    )
    assert spec["automountServiceAccountToken"] is False
    container = spec["containers"][0]
    security = container["securityContext"]
    assert (
        security["readOnlyRootFilesystem"]
        and not security["allowPrivilegeEscalation"]
        and security["capabilities"]["drop"] == ["ALL"]
    )
    assert next(m for m in container["volumeMounts"] if m["name"] == "databases")["readOnly"] is True
    assert (
        next(v for v in spec["volumes"] if v["name"] == "databases")["persistentVolumeClaim"]["readOnly"]
        is True
    )
    assert critic["spec"]["replicas"] >= 2
    policy = next(
        o for o in docs if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "sqldistill-critic"
    )
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"} and policy["spec"]["egress"] == []
    sources = {
        p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for p in policy["spec"]["ingress"][0]["from"]
    }
    assert sources == {"controller", "generation"}
    assert any(
        o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "sqldistill-critic" for o in docs
    )


def test_rbac_grants_nothing_beyond_the_list(objects):
    _overlay, docs = objects
    roles = {o["metadata"]["name"]: o for o in docs if o["kind"] in ("Role", "ClusterRole")}
    assert set(roles) == set(ALLOWED_RULES) and all(o["kind"] == "Role" for o in roles.values())
    for name, role in roles.items():
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    allowed = ALLOWED_RULES[name].get((group, resource), set())
                    assert set(rule["verbs"]) <= allowed, (name, group, resource, rule["verbs"])
                    assert "*" not in rule["verbs"] and "*" not in rule["resources"]
    bindings = [o for o in docs if o["kind"] == "RoleBinding"]
    assert {(b["roleRef"]["name"], b["subjects"][0]["name"]) for b in bindings} == {
        (n, n) for n in ALLOWED_RULES
    }


def test_gpu_only_where_the_overlay_says():
    cpu, gpu = render("cpu"), render("gpu")

    def gpu_users(docs):
        users = {
            o["metadata"]["name"]
            for o, spec in pod_specs(docs)
            if any("nvidia.com/gpu" in c.get("resources", {}).get("limits", {}) for c in spec["containers"])
        }
        for o in docs:
            if (
                o["kind"] == "ConfigMap"
                and "job-template.yaml" in o.get("data", {})
                and "nvidia.com/gpu" in o["data"]["job-template.yaml"]
            ):
                users.add("trainer-job-template")
        return users

    assert gpu_users(cpu) == set()
    assert gpu_users(gpu) == {"sqldistill-tgi", "trainer-job-template"}
    assert not any(o["metadata"]["name"] == "sqldistill-tgi" for o in cpu)
    generation = next(
        o for o in cpu if o["kind"] == "Deployment" and o["metadata"]["name"] == "sqldistill-generation"
    )
    env = {e["name"]: e.get("value") for e in generation["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SQLDISTILL_GENERATION__BACKEND"] == "transformers"


def test_tgi_takes_the_longest_prompt_the_schema_budget_allows():
    """The prompt's schema may hold SCHEMA_TOKEN_BUDGET estimated tokens (real ones up to
    REAL_TOKENS_PER_ESTIMATE times as many): TGI must take that as input, and the longest SQL a run may ask for after it."""
    from shared import defaults, limits
    from shared.schema_pruning import REAL_TOKENS_PER_ESTIMATE

    (tgi,) = [
        o for o in render("gpu") if o["kind"] == "Deployment" and o["metadata"]["name"] == "sqldistill-tgi"
    ]
    args = tgi["spec"]["template"]["spec"]["containers"][0]["args"]
    value = {flag: int(args[args.index(flag) + 1]) for flag in ("--max-input-tokens", "--max-total-tokens")}
    assert value["--max-input-tokens"] >= defaults.SCHEMA_TOKEN_BUDGET * REAL_TOKENS_PER_ESTIMATE + 512
    assert value["--max-total-tokens"] >= value["--max-input-tokens"] + limits.MAX_NEW_TOKENS  # a run's most


def test_job_templates_in_the_configmaps_validate(objects):
    _overlay, docs = objects
    template = next(o for o in docs if o["kind"] == "ConfigMap" and "job-template.yaml" in o.get("data", {}))
    job = yaml.safe_load(template["data"]["job-template.yaml"])
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_the_controller_finds_the_serving_deployment_by_label(objects):
    _overlay, docs = objects
    config = Config(
        **yaml.safe_load(
            next(o for o in docs if o["kind"] == "ConfigMap" and "config.yaml" in o["data"])["data"][
                "config.yaml"
            ]
        )
    )
    wanted = dict(part.split("=") for part in config.controller.serving_selector.split(","))
    serving = [
        o
        for o in docs
        if o["kind"] == "Deployment"
        and all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
    ]
    assert [o["metadata"]["name"] for o in serving] == ["sqldistill-generation"]
    assert config.target("critic") == "sqldistill-critic:50151"  # services reach each other by Service name
    ports = {o["metadata"]["name"]: o["spec"]["ports"][0]["port"] for o in docs if o["kind"] == "Service"}
    for name in ("critic", "generation", "trainer", "controller"):
        assert ports[f"sqldistill-{name}"] == config.endpoint(name).port


def test_dockerfile_has_a_target_per_service_and_runs_as_non_root():
    text = (REPO / "services" / "Dockerfile").read_text()
    for name in ("critic", "generation", "trainer", "controller"):
        assert f"AS {name}\n" in text
    assert "USER 10001" in text and "ARG PYTHON_IMAGE=python:3.11" in text
    runtime = text.split("AS runtime", 1)[1]
    assert "build-essential" not in runtime  # no build tools in the final image
    assert Path(REPO / "k8s" / "base" / "trainer" / "job-template.yaml").is_file()
