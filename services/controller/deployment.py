"""Putting a model version into service, and taking it back out.

Embedded: the generation service loads the version (hot swap) and reports it. Kubernetes: the
controller patches the serving Deployment it finds by label (env naming the version and adapter),
waits for the rollout to complete (observedGeneration, updated and available replicas), confirms
through the generation service, and restores the previous version on failure or timeout."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import grpc

from services.controller.errors import RolloutError
from services.controller.generation_client import GenerationClient
from services.controller.versions import ServedModel

log = logging.getLogger("sqldistill.controller")


class Rollout(Protocol):
    def apply(self, target: ServedModel, previous: ServedModel | None) -> None: ...

    def serving_version(self) -> str: ...


class EmbeddedRollout:
    """The generation service on this machine loads the version itself."""

    def __init__(self, generation: GenerationClient) -> None:
        self.generation = generation

    def serving_version(self) -> str:
        return self.generation.describe().version

    def load(self, model: ServedModel) -> None:
        self.generation.load(model)

    def apply(self, target: ServedModel, previous: ServedModel | None) -> None:
        try:
            self.load(target)
            served = self.serving_version()
            if served != target.version:
                raise RolloutError(f"generation reports {served!r} after loading {target.version!r}")
        except (grpc.RpcError, RolloutError) as exc:
            message = exc.details() if isinstance(exc, grpc.RpcError) else str(exc)
            if previous is not None:
                log.warning(
                    "rollout of %s failed (%s); restoring %s", target.version, message, previous.version
                )
                self.load(previous)
            raise RolloutError(f"rollout of {target.version} failed: {message}") from exc


class KubernetesRollout:
    """Patches the serving Deployment (found by label selector) and waits for it to roll out."""

    def __init__(
        self,
        namespace: str,
        label_selector: str,
        generation: GenerationClient,
        apps_api: Any = None,
        timeout_seconds: float = 600.0,
        poll_seconds: float = 2.0,
        container: str = "",
    ) -> None:
        from kubernetes import client, config

        if apps_api is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            apps_api = client.AppsV1Api()
        self.apps = apps_api
        self.namespace = namespace
        self.label_selector = label_selector
        self.generation = generation
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.container = container

    def _deployment(self) -> Any:
        found = self.apps.list_namespaced_deployment(self.namespace, label_selector=self.label_selector).items
        if len(found) != 1:
            raise RolloutError(
                f"expected one Deployment labelled {self.label_selector!r} in {self.namespace}, found {len(found)}"
            )
        return found[0]

    def serving_version(self) -> str:
        return self.generation.describe().version

    def _patch(self, name: str, container: str, model: ServedModel) -> int:
        body = {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"sqldistill.io/model-version": model.version}},
                    "spec": {
                        "containers": [
                            {
                                "name": container,
                                "env": [
                                    {"name": "SQLDISTILL_GENERATION__VERSION", "value": model.version},
                                    {"name": "SQLDISTILL_GENERATION__MODEL", "value": model.path},
                                    {"name": "SQLDISTILL_GENERATION__ADAPTER", "value": model.adapter_path},
                                ],
                            }
                        ]
                    },
                }
            }
        }
        patched = self.apps.patch_namespaced_deployment(name, self.namespace, body)
        return patched.metadata.generation

    def _wait(self, name: str, generation: int) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        while time.monotonic() < deadline:
            status = self.apps.read_namespaced_deployment_status(name, self.namespace)
            wanted = status.spec.replicas if status.spec.replicas is not None else 1
            st = status.status
            if (
                (st.observed_generation or 0) >= generation
                and (st.updated_replicas or 0) == wanted
                and (st.available_replicas or 0) == wanted
                and (st.replicas or 0) == wanted
            ):
                return
            time.sleep(self.poll_seconds)
        raise RolloutError(f"Deployment {name} did not finish rolling out in {self.timeout_seconds:.0f}s")

    def apply(self, target: ServedModel, previous: ServedModel | None) -> None:
        deployment = self._deployment()
        name = deployment.metadata.name
        container = self.container or deployment.spec.template.spec.containers[0].name
        try:
            self._wait(name, self._patch(name, container, target))
            served = self.serving_version()
            if served != target.version:
                raise RolloutError(f"generation reports {served!r} after rolling out {target.version!r}")
        except (RolloutError, grpc.RpcError) as exc:
            message = exc.details() if isinstance(exc, grpc.RpcError) else str(exc)
            if previous is not None:
                log.warning(
                    "rollout of %s failed (%s); rolling back to %s", target.version, message, previous.version
                )
                self._wait(name, self._patch(name, container, previous))
            raise RolloutError(f"rollout of {target.version} failed: {message}") from exc
