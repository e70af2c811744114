"""A fake Kubernetes API server for tests (no cluster or kube-apiserver can run here).

It records every request (method, path, query, JSON body) so tests can check exactly what the
official client sent, and answers from a small in-memory model of Jobs, Pods and Deployments:
enough for create/get/watch/delete of Jobs, pod logs, and patch/read of Deployments."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class FakeKubeApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.pod_logs: dict[str, str] = {}
        self.on_patch = None  # callable(name, deployment) run after each Deployment patch
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _body(self) -> Any:
                length = int(self.headers.get("content-length", 0))
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                body = self._body() if method in ("POST", "PATCH", "PUT", "DELETE") else None
                with api._lock:
                    api.requests.append(
                        {
                            "method": method,
                            "path": url.path,
                            "query": parse_qs(url.query),
                            "body": body,
                            "content_type": self.headers.get("content-type", ""),
                        }
                    )
                    status, payload = api.route(method, url.path, parse_qs(url.query), body)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header(
                    "content-type", "text/plain" if isinstance(payload, str) else "application/json"
                )
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_PATCH(self) -> None:  # noqa: N802
                self._handle("PATCH")

            def do_DELETE(self) -> None:  # noqa: N802
                self._handle("DELETE")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def api_client(self) -> Any:
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    @staticmethod
    def _status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
        return code, {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": reason,
            "message": message,
            "code": code,
        }

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?(/status)?", path)
        if m:
            _ns, name, _status = m.groups()
            if method == "POST":
                name = body["metadata"]["name"]
                if name in self.jobs:
                    return self._status(409, "AlreadyExists", f"jobs.batch {name!r} already exists")
                job = dict(body)
                job["status"] = {"active": 1}
                self.jobs[name] = job
                return 201, job
            if name not in self.jobs:
                return self._status(404, "NotFound", f"jobs.batch {name!r} not found")
            if method == "GET":
                return 200, self.jobs[name]
            if method == "DELETE":
                return 200, self.jobs.pop(name)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods", path)
        if m and method == "GET":
            selector = query.get("labelSelector", [""])[0]
            job = selector.split("=", 1)[1] if "=" in selector else ""
            items = (
                [{"metadata": {"name": f"{job}-pod", "namespace": m.group(1)}}]
                if job in self.pod_logs
                else []
            )
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/log", path)
        if m and method == "GET":
            return 200, self.pod_logs.get(m.group(2).removesuffix("-pod"), "")
        m = re.fullmatch(r"/apis/apps/v1/namespaces/([^/]+)/deployments(?:/([^/]+))?(/status)?", path)
        if m:
            _ns, name, _status = m.groups()
            if name is None and method == "GET":
                selector = query.get("labelSelector", [""])[0]
                wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
                items = [
                    d
                    for d in self.deployments.values()
                    if all(d["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
                ]
                return 200, {
                    "kind": "DeploymentList",
                    "apiVersion": "apps/v1",
                    "metadata": {},
                    "items": items,
                }
            if name not in self.deployments:
                return self._status(404, "NotFound", f"deployments.apps {name!r} not found")
            deployment = self.deployments[name]
            if method == "GET":
                return 200, deployment
            if method == "PATCH":
                _merge(deployment, body)
                deployment["metadata"]["generation"] = deployment["metadata"].get("generation", 1) + 1
                if self.on_patch:
                    self.on_patch(name, deployment)
                return 200, deployment
        return self._status(404, "NotFound", f"no route for {method} {path}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Strategic merge for what rollouts patch: containers are merged by name, maps recursively."""
    for key, value in patch.items():
        if key == "containers" and isinstance(value, list):
            existing = {c["name"]: c for c in target.get("containers", [])}
            for container in value:
                if container["name"] in existing:
                    _merge(existing[container["name"]], container)
                else:
                    target.setdefault("containers", []).append(container)
        elif key == "env" and isinstance(value, list):
            existing = {e["name"]: e for e in target.get("env", [])}
            for item in value:
                existing[item["name"]] = item
            target["env"] = list(existing.values())
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
