"""One typed configuration for every service: defaults, then a YAML file, then environment.

Environment variables win so a container can override a single field:
`SQLDISTILL_CRITIC__WORKERS=4` sets `config.critic.workers`. The file is named by
`SQLDISTILL_CONFIG` or passed explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared import defaults

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAMES = ("critic", "generation", "trainer", "controller")


class Endpoint(BaseModel):
    """Where one service listens (gRPC) and exposes Prometheus metrics (0 = no metrics server)."""

    port: int
    metrics_port: int = 0
    host: str = ""  # where clients reach it ("" = the top-level host); a Service name in a cluster


class ServicesConfig(BaseModel):
    critic: Endpoint = Endpoint(port=50151, metrics_port=9151)
    generation: Endpoint = Endpoint(port=50152, metrics_port=9152)
    trainer: Endpoint = Endpoint(port=50153, metrics_port=9153)
    controller: Endpoint = Endpoint(port=50154, metrics_port=9154)


class CriticConfig(BaseModel):
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    interactive_workers: int = Field(
        default=1, ge=0
    )  # sandboxes kept for Execute and ask (0 = share judging's)
    timeout_ms: int = defaults.QUERY_TIMEOUT_MS
    max_rows: int = defaults.MAX_RESULT_ROWS
    max_result_bytes: int = defaults.MAX_RESULT_BYTES
    memory_mb: int = defaults.QUERY_MEMORY_MB
    test_suite_variants: int = 10


class GenerationConfig(BaseModel):
    backend: str = "transformers"  # transformers | tgi | openai
    model: str = ""  # local path, hub id, or a packaged model name; "" = the packaged default
    adapter: str = ""  # LoRA adapter folder served on top of `model`
    version: str = ""  # model version id being served (set by rollout)
    tgi_url: str = ""
    openai_url: str = ""  # an OpenAI-compatible server's base URL (.../v1); key in $SQLDISTILL_OPENAI_API_KEY
    openai_model: str = ""  # the base model's id on that server ("" = the first it lists)
    max_batch_size: int = 32  # rows a forward pass on a CPU (a GPU's comes from its free memory)
    pair_batch_size: int = 8  # pairs sampled from one prompt before its shots and hardness level change
    few_shot_k: int = defaults.FEW_SHOT_K
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda: where the transformers backend runs
    precision: str = (
        defaults.GENERATION_PRECISION
    )  # auto | fp32 | bf16 | fp16 | int8 (auto: bf16 on a GPU, fp32 on a CPU)
    # auto (static on a GPU, compact elsewhere) | compact (finished rows leave the batch) | static
    # (static cache, compiled step: CUDA graphs on a GPU) | generate (transformers')
    decode_loop: str = "auto"
    # off | identifiers | full: hold SQL to the database's grammar where a request leaves it unset
    constrain: str = defaults.CONSTRAIN


class TrainerConfig(BaseModel):
    launcher: str = "local"  # local | kubernetes
    max_local_jobs: int = 1  # local training jobs at once (0 = no limit); the rest wait PENDING
    # Processes per training job: 1 = the entrypoint alone; N = torchrun with N ranks (one per GPU
    # on a GPU node - a Kubernetes Job then asks for N GPUs - or N gloo processes on a CPU).
    processes_per_job: int = Field(default=1, ge=1)
    namespace: str = "sqldistill"
    image: str = ""  # training image for Kubernetes Jobs ("" = the template's)
    job_template: str = ""  # Job template file ("" = k8s/base/trainer/job-template.yaml)


class PathsConfig(BaseModel):
    """Where RPC fields may point: home/models and home/datasets always, plus these."""

    model_roots: list[Path] = []  # folders a model or adapter may be loaded from
    dataset_roots: list[Path] = []  # folders a training set may be read from
    hub_allow: list[str] = []  # hub ids a model may be loaded by ("org/name", or "org/*")


class ControllerConfig(BaseModel):
    rollout: str = "embedded"  # embedded | kubernetes
    namespace: str = "sqldistill"
    serving_selector: str = "app.kubernetes.io/name=sqldistill,sqldistill.io/role=serving"
    record_asks: bool = True  # keep every Ask's question and answer in the store's question log


class Config(BaseSettings):
    """Everything a service needs to start; printed (secrets elided) on start."""

    model_config = SettingsConfigDict(env_prefix="SQLDISTILL_", env_nested_delimiter="__", extra="forbid")

    host: str = "127.0.0.1"
    home: Path = REPO_ROOT / "var"
    store_url: str = ""  # "" = sqlite file under home
    dataset: Path | None = None  # Spider-format folder or folder of .sqlite files
    grace_seconds: float = 10.0
    default_deadline_seconds: float = 30.0
    services: ServicesConfig = ServicesConfig()
    critic: CriticConfig = CriticConfig()
    generation: GenerationConfig = GenerationConfig()
    trainer: TrainerConfig = TrainerConfig()
    controller: ControllerConfig = ControllerConfig()
    paths: PathsConfig = PathsConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats explicit file values (passed as init kwargs), which beat defaults.
        return (env_settings, init_settings)

    @property
    def model_roots(self) -> list[Path]:
        return [Path(self.home) / "models", *self.paths.model_roots]

    @property
    def dataset_roots(self) -> list[Path]:
        return [Path(self.home) / "datasets", *self.paths.dataset_roots]

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.home / 'store.db'}"

    def endpoint(self, service: str) -> Endpoint:
        if service not in SERVICE_NAMES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICE_NAMES)}")
        return getattr(self.services, service)

    def target(self, service: str) -> str:
        endpoint = self.endpoint(service)
        host = endpoint.host or ("127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host)
        return f"{host}:{endpoint.port}"

    def redacted(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if "@" in data["store_url"]:  # drop credentials from a database URL
            scheme, rest = data["store_url"].split("://", 1)
            data["store_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return data


def load_config(path: Path | str | None = None, **overrides: Any) -> Config:
    """Defaults < YAML file (path or $SQLDISTILL_CONFIG) < overrides < environment."""
    path = path or os.environ.get("SQLDISTILL_CONFIG")
    values: dict[str, Any] = {}
    if path:
        with open(path) as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise ValueError(f"config file {path} must hold a mapping, got {type(values).__name__}")
    values.update(overrides)
    return Config(**values)
