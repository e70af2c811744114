"""The `openai` backend: any server with the OpenAI-compatible completions route (`/v1/completions`:
vLLM, SGLang, llama.cpp's server, TGI), through the `openai` client."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.generation.backends import ModelSpec, Sampling
from services.generation.constraint import Constraint
from services.generation.parsing import truncate_at_stop
from services.generation.tgi_backend import RemoteModel
from shared.errors import FailedPrecondition, Unavailable

API_KEY_ENV = "SQLDISTILL_OPENAI_API_KEY"  # read at start; never written to config or logs


class OpenAIBackend(RemoteModel):
    """Base URL, an API key from the environment, the model id per request (a LoRA adapter served as
    its own model id, as vLLM and llama.cpp do: the version's name), timeouts, retries with backoff
    (the client's own), a concurrency limit, n samples per prompt, seed and stop sequences."""

    backend = "openai"
    # The grammar goes as llama.cpp's server takes it: GBNF in the request's `grammar` field. (vLLM
    # names the field differently - `guided_grammar` - and is not tested here.)
    constrain_modes = ("off", "identifiers", "full")

    def __init__(
        self,
        base_url: str,
        spec: ModelSpec = ModelSpec(),
        model_id: str = "",
        timeout: float = 60.0,
        retries: int = 3,
        max_concurrency: int = 8,
    ) -> None:
        from openai import OpenAI

        if not base_url:
            raise FailedPrecondition("the openai backend needs generation.openai_url")
        self.url = base_url
        self.client = OpenAI(
            base_url=base_url,
            api_key=os.environ.get(API_KEY_ENV) or "none",
            timeout=timeout,
            max_retries=retries,
        )
        self.model_id = model_id  # the base model's id on the server ("" = the first it lists)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="openai")
        self._use(spec)

    def _model(self) -> str:
        if self._spec.adapter_path:  # served under its own name
            return self._spec.version or Path(self._spec.adapter_path).name
        if not self.model_id:
            self.model_id = self._call(lambda: self.client.models.list().data[0].id)
        return self.model_id

    def _call(self, request):  # type: ignore[no-untyped-def]
        import openai

        try:
            return request()
        except openai.APIStatusError as exc:
            if 400 <= exc.status_code < 500 and exc.status_code != 429:
                raise FailedPrecondition(
                    f"generation server refused the request ({exc.status_code}): {exc.message}"
                ) from exc
            raise Unavailable(
                f"generation server {self.url} failed ({exc.status_code}): {exc.message}"
            ) from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise Unavailable(f"generation server {self.url} unreachable after retries: {exc}") from exc

    def _samples(self, prompt: str, n: int, sampling: Sampling, seed: int, grammar: str = "") -> list[str]:
        """n completions of one prompt; asked again for the rest when a server returns fewer choices
        than asked (llama.cpp's answers one)."""
        texts: list[str] = []
        while len(texts) < n:
            missing, request_seed = n - len(texts), seed + len(texts)
            reply = self._call(
                lambda missing=missing, request_seed=request_seed: self.client.completions.create(
                    model=self._model(),
                    prompt=prompt,
                    n=missing,
                    max_tokens=sampling.max_new_tokens,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p if sampling.temperature > 0 else 1.0,
                    seed=request_seed,
                    stop=list(sampling.stop) or None,
                    extra_body={"grammar": grammar} if grammar else None,
                )
            )
            if not reply.choices:
                raise Unavailable(f"generation server {self.url} returned no completion")
            texts += [
                truncate_at_stop(c.text, sampling.stop) for c in sorted(reply.choices, key=lambda c: c.index)
            ]
        return texts[:n]

    def generate(
        self,
        prompts: list[str],
        n: int,
        sampling: Sampling,
        constraints: list[Constraint | None] | None = None,
    ) -> list[list[str]]:
        grammars = [
            c.gbnf() if c is not None and c.mode != "off" else ""
            for c in (constraints or [None] * len(prompts))
        ]
        jobs = [
            self._pool.submit(self._samples, p, n, sampling, sampling.seed + i * n, grammar)
            for i, (p, grammar) in enumerate(zip(prompts, grammars, strict=True))
        ]
        return [job.result() for job in jobs]
