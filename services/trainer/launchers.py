"""Where training processes run: `local` (a subprocess on this machine) and `kubernetes` (a batch/v1
Job that requests a GPU), behind one small interface the job manager polls."""

from __future__ import annotations

import copy
import logging
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

log = logging.getLogger("sqldistill.trainer")
REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_JOB_TEMPLATE = REPO / "k8s" / "base" / "trainer" / "job-template.yaml"


def train_arguments(processes: int) -> list[str]:
    """Python's arguments that run one training job: the entrypoint itself, or under torchrun with
    `processes` ranks (distributed.py; one per GPU on a GPU node, gloo processes on a CPU)."""
    entry = ["-m", "services.trainer.train"]
    if processes <= 1:
        return entry
    return ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *entry]


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """pid and every process under it: torchrun starts its ranks in process groups of their own, so
    signalling the launcher's group alone would leave them running."""
    import psutil

    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


@dataclass
class Status:
    """What a launcher knows about a job: still running, or finished with an exit code."""

    running: bool
    exit_code: int | None = None
    message: str = ""


class Launcher(Protocol):
    name: str

    def start(self, job_id: str, spec_path: Path, labels: dict[str, str]) -> None: ...

    def status(self, job_id: str) -> Status: ...

    def cancel(self, job_id: str) -> None: ...

    def log_tail(self, job_id: str, lines: int = 30) -> str: ...


def _tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class LocalLauncher:
    """Runs `python -m services.trainer.train SPEC` as a child process; output to work_dir/train.log."""

    name = "local"

    def __init__(self, python: str = sys.executable, processes: int = 1) -> None:
        self.python = python
        self.processes = processes
        self._processes: dict[str, subprocess.Popen] = {}
        self._work_dirs: dict[str, Path] = {}

    def start(self, job_id: str, spec_path: Path, labels: dict[str, str]) -> None:
        work_dir = spec_path.parent
        self._work_dirs[job_id] = work_dir
        self._kill_stale(work_dir)
        with open(work_dir / "train.log", "ab") as log_file:
            process = subprocess.Popen(
                [self.python, *train_arguments(self.processes), str(spec_path)],
                cwd=REPO,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        (work_dir / "pid").write_text(str(process.pid))
        self._processes[job_id] = process

    def _kill_stale(self, work_dir: Path) -> None:
        """A training process left by an earlier trainer service (crash): stop it before relaunching,
        so two processes never write the same job. The new one resumes from the last checkpoint."""
        pid_file = work_dir / "pid"
        if not pid_file.is_file():
            return
        try:
            pid = int(pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (ValueError, OSError):
            return
        if "services.trainer.train" in cmdline:
            log.warning("stopping stale training process %d in %s", pid, work_dir)
            kill_tree(pid)

    def status(self, job_id: str) -> Status:
        process = self._processes.get(job_id)
        if process is None:
            return Status(running=False, exit_code=None, message="no process for this job in this trainer")
        code = process.poll()
        return Status(running=code is None, exit_code=code)

    def cancel(self, job_id: str) -> None:
        process = self._processes.get(job_id)
        if process is not None and process.poll() is None:
            kill_tree(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)
                process.wait()

    def log_tail(self, job_id: str, lines: int = 30) -> str:
        work_dir = self._work_dirs.get(job_id)
        return _tail(work_dir / "train.log", lines) if work_dir else ""


def job_name(job_id: str) -> str:
    """A DNS-1123 name for the Job object."""
    name = re.sub(r"[^a-z0-9-]", "-", f"sqldistill-train-{job_id}".lower()).strip("-")
    return name[:63].rstrip("-")


def build_job(
    template: dict[str, Any],
    job_id: str,
    spec_path: Path,
    labels: dict[str, str],
    image: str = "",
    namespace: str = "",
    processes: int = 1,
) -> dict[str, Any]:
    """The batch/v1 Job for one training job, filled in from the template (volumes, backoffLimit,
    ttlSecondsAfterFinished come from the template). With several processes it runs torchrun and,
    where the template asks for GPUs, asks for one per process."""
    job = copy.deepcopy(template)
    name = job_name(job_id)
    metadata = job.setdefault("metadata", {})
    metadata["name"] = name
    if namespace:
        metadata["namespace"] = namespace
    all_labels = {
        "app.kubernetes.io/name": "sqldistill",
        "app.kubernetes.io/component": "trainer-job",
        "sqldistill.io/job-id": job_id,
        **labels,
    }
    metadata.setdefault("labels", {}).update(all_labels)
    pod = job["spec"]["template"]
    pod.setdefault("metadata", {}).setdefault("labels", {}).update(all_labels)
    container = pod["spec"]["containers"][0]
    container["args"] = [*train_arguments(processes), str(spec_path)]
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        if processes > 1 and "nvidia.com/gpu" in (resources.get(bound) or {}):
            resources[bound]["nvidia.com/gpu"] = str(processes)
    if image:
        container["image"] = image
    return job


class KubernetesLauncher:
    """Runs each training job as a Kubernetes Job through the official client. The spec file and
    the version folder live on the shared models volume, mounted at the same path in both pods."""

    name = "kubernetes"

    def __init__(
        self,
        namespace: str,
        template_path: Path = DEFAULT_JOB_TEMPLATE,
        image: str = "",
        api_client: Any = None,
        processes: int = 1,
    ) -> None:
        from kubernetes import client, config

        if api_client is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            api_client = client.ApiClient()
        self.namespace = namespace
        self.image = image
        self.processes = processes
        self.template = yaml.safe_load(Path(template_path).read_text())
        self.batch = client.BatchV1Api(api_client)
        self.core = client.CoreV1Api(api_client)

    def start(self, job_id: str, spec_path: Path, labels: dict[str, str]) -> None:
        from kubernetes.client.exceptions import ApiException

        body = build_job(self.template, job_id, spec_path, labels, self.image, self.namespace, self.processes)
        try:
            self.batch.create_namespaced_job(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:  # 409: it exists already (a restarted trainer re-submitting): adopt it
                raise

    def status(self, job_id: str) -> Status:
        from kubernetes.client.exceptions import ApiException

        try:
            job = self.batch.read_namespaced_job_status(job_name(job_id), self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return Status(running=False, exit_code=None, message="the Job no longer exists")
            raise
        status = job.status
        for condition in status.conditions or []:
            if condition.status == "True" and condition.type == "Complete":
                return Status(running=False, exit_code=0)
            if condition.status == "True" and condition.type == "Failed":
                return Status(
                    running=False, exit_code=1, message=condition.message or condition.reason or "Job failed"
                )
        if (status.succeeded or 0) > 0:
            return Status(running=False, exit_code=0)
        return Status(running=True)

    def cancel(self, job_id: str) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        try:
            self.batch.delete_namespaced_job(
                job_name(job_id), self.namespace, body=client.V1DeleteOptions(propagation_policy="Foreground")
            )
        except ApiException as exc:
            if exc.status != 404:
                raise

    def log_tail(self, job_id: str, lines: int = 30) -> str:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=f"job-name={job_name(job_id)}")
        if not pods.items:
            return ""
        return self.core.read_namespaced_pod_log(
            pods.items[-1].metadata.name, self.namespace, tail_lines=lines
        )
