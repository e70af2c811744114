"""Builds the generation server: catalogue + few-shot seed pool + model backend + servicer.

The server reports SERVING only once the model is loaded (the first start converts the packaged
default model once, which takes a while)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from services.generation.backends import Backend, ModelSpec
from services.generation.logic import Generator
from services.generation.openai_backend import OpenAIBackend
from services.generation.servicer import GenerationServicer
from services.generation.tgi_backend import TgiBackend
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.locate import default_dataset
from shared.catalogue import Catalogue
from shared.config import Config
from shared.confine import Roots
from shared.fewshot import few_shot_pool
from shared.grpc_server import ServiceHost
from shared.pb import generation_pb2, generation_pb2_grpc
from shared.service_main import host_for

log = logging.getLogger("sqldistill.generation")


def build_generator(config: Config) -> Generator:
    dataset = Path(config.dataset) if config.dataset else default_dataset(config)
    catalogue = Catalogue.load(dataset)
    pool = few_shot_pool(catalogue)
    spec = ModelSpec(
        path=config.generation.model,
        adapter_path=config.generation.adapter,
        version=config.generation.version,
    )
    work_backend: Callable[[ModelSpec], Backend]
    if config.generation.backend == "tgi":
        backend = TgiBackend(config.generation.tgi_url, spec=spec)
        work_backend = lambda work_spec: TgiBackend(config.generation.tgi_url, spec=work_spec)  # noqa: E731
    elif config.generation.backend == "openai":
        url, model_id = config.generation.openai_url, config.generation.openai_model
        backend = OpenAIBackend(url, spec=spec, model_id=model_id)
        work_backend = lambda work_spec: OpenAIBackend(url, spec=work_spec, model_id=model_id)  # noqa: E731
    elif config.generation.backend == "transformers":
        models = Path(config.home) / "models"
        batch = config.generation.max_batch_size
        device, precision = config.generation.device, config.generation.precision
        loop = config.generation.decode_loop
        backend = TransformersBackend(
            models, spec, max_batch_size=batch, device=device, precision=precision, decode_loop=loop
        )
        lock = backend.generate_lock  # the work slot's passes queue behind the serving model's

        def work_backend(work_spec: ModelSpec) -> Backend:
            return TransformersBackend(
                models,
                work_spec,
                max_batch_size=batch,
                generate_lock=lock,
                device=device,
                precision=precision,
                decode_loop=loop,
            )
    else:
        raise ValueError(f"unknown generation backend {config.generation.backend!r}")
    log.info(
        "generation: %d databases, %d few-shot seeds, backend %s",
        len(catalogue.databases),
        len(pool),
        config.generation.backend,
    )
    return Generator(
        catalogue,
        backend,
        pool,
        default_k=config.generation.few_shot_k,
        pair_batch_size=config.generation.pair_batch_size,
        work_backend=work_backend,
        roots=Roots.from_config(config),
        constrain=config.generation.constrain,
    )


def build(config: Config) -> tuple[ServiceHost, Callable[[], None]]:
    servicer_box: list[GenerationServicer] = []

    host = host_for(
        "generation",
        config,
        generation_pb2,
        _Deferred(servicer_box),
        generation_pb2_grpc.add_GenerationServiceServicer_to_server,
        before_ready=lambda: servicer_box.append(GenerationServicer(build_generator(config))),
    )
    return host, lambda: None


class _Deferred(generation_pb2_grpc.GenerationServiceServicer):
    """Forwards to the real servicer once the model is loaded; until then calls get UNAVAILABLE
    (and health says NOT_SERVING), so the port is open and probes answer while the model loads."""

    def __init__(self, box: list[GenerationServicer]) -> None:
        self._box = box

    def _target(self) -> GenerationServicer:
        if not self._box:
            from shared.errors import Unavailable

            raise Unavailable("the model is still loading")
        return self._box[0]

    def GeneratePairs(self, request, context):
        return self._target().GeneratePairs(request, context)

    def GenerateSql(self, request, context):
        return self._target().GenerateSql(request, context)

    def LoadModel(self, request, context):
        return self._target().LoadModel(request, context)

    def DescribeModel(self, request, context):
        return self._target().DescribeModel(request, context)

    def ReviewSql(self, request, context):
        return self._target().ReviewSql(request, context)
