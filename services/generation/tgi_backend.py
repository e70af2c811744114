"""Generation over HTTP: what the server-backed backends share, and the TGI backend (a
text-generation-inference server through huggingface_hub's InferenceClient). The OpenAI-compatible
backend is openai_backend.py."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from services.generation.backends import ModelInfo, ModelSpec, Sampling
from services.generation.parsing import truncate_at_stop
from shared.errors import FailedPrecondition, Unavailable


class RemoteModel:
    """What every HTTP backend shares: the server holds the weights, so selecting a version only
    changes what requests name (an adapter id, a model id); token counts are a cheap estimate (the
    server refuses what does not fit)."""

    backend = "remote"
    url = ""
    constrain_modes: tuple[str, ...] = ("off",)
    _spec = ModelSpec()

    def load(self, spec: ModelSpec) -> ModelInfo:
        self._use(spec)
        return self.info()

    def _use(self, spec: ModelSpec) -> None:
        if spec.precision:  # refused rather than ignored: a run asking int8 sampling must know
            raise FailedPrecondition(
                f"the {self.backend} backend computes at its server's precision; "
                f"precision {spec.precision!r} needs generation.backend transformers"
            )
        self._spec = spec

    def info(self) -> ModelInfo:
        return ModelInfo(
            version=self._spec.version or self._spec.adapter_path or "base",
            path=self._spec.path or self.url,
            adapter_path=self._spec.adapter_path,
            backend=self.backend,
            device="remote",
            reviews=callable(getattr(self, "score", None)),
        )

    def count_tokens(self, text: str) -> int:
        return len(text) // 3


class TgiBackend(RemoteModel):
    """A text-generation-inference server (or another server speaking TGI's /generate) through
    huggingface_hub's InferenceClient: timeouts, retries with backoff, a concurrency limit, and the
    LoRA adapter id sent with every request.

    No SQL grammar: TGI's guided generation takes a JSON schema or a regular expression, not a
    context-free grammar, so `generation.constrain` other than off generates unconstrained here (one
    warning; the reply's `constrain` says off)."""

    backend = "tgi"

    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        max_concurrency: int = 16,
        retries: int = 3,
        spec: ModelSpec = ModelSpec(),
    ) -> None:
        from huggingface_hub import InferenceClient

        if not url:
            raise FailedPrecondition("the tgi backend needs generation.tgi_url")
        self.url = url
        self.client = InferenceClient(base_url=url, timeout=timeout)
        self.retries = retries
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="tgi")
        self._use(spec)

    def _request(self, call):  # type: ignore[no-untyped-def]
        """One request with retries and backoff; a refusal (4xx but 429) is not retried. A dropped
        connection (reset, refused, cut mid-reply: the HTTP client's transport errors) is retried like
        a 5xx - a busy server's accept queue resets connections."""
        from httpx2 import TransportError  # huggingface_hub's HTTP client
        from huggingface_hub.errors import (
            HfHubHTTPError,
            InferenceTimeoutError,
            TextGenerationError,
            ValidationError,
        )

        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                return call()
            except ValidationError as exc:  # the server says the request itself is wrong: no retry
                raise FailedPrecondition(f"generation server refused the request: {exc}") from exc
            except (
                InferenceTimeoutError,
                TextGenerationError,
                HfHubHTTPError,
                TransportError,
                OSError,
            ) as exc:
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if status is not None and 400 <= status < 500 and status != 429:
                    raise FailedPrecondition(
                        f"generation server refused the request ({status}): {exc}"
                    ) from exc
                if attempt == self.retries:
                    raise Unavailable(
                        f"generation server {self.url} failed after {self.retries + 1} tries: {exc}"
                    ) from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _one(self, prompt: str, sampling: Sampling, seed: int) -> str:
        text = self._request(
            lambda: self.client.text_generation(
                prompt,
                max_new_tokens=sampling.max_new_tokens,
                do_sample=sampling.temperature > 0,
                temperature=sampling.temperature or None,
                top_p=sampling.top_p if sampling.temperature > 0 and sampling.top_p < 1 else None,
                seed=seed,
                stop=list(sampling.stop),
                adapter_id=self._spec.adapter_path or None,
            )
        )
        return truncate_at_stop(text, sampling.stop)

    def _tail_logprob(self, text: str, tail: int) -> float:
        """log p(the last `tail` characters of text | what comes before), from the log-probabilities
        TGI returns for the input's own tokens (decoder_input_details). The tokens are counted from
        the end, so a BOS token the server puts first changes nothing."""
        reply = self._request(
            lambda: self.client.text_generation(
                text,
                max_new_tokens=1,
                details=True,
                decoder_input_details=True,
                adapter_id=self._spec.adapter_path or None,
            )
        )
        prefill = getattr(getattr(reply, "details", None), "prefill", None)
        if not prefill:
            raise FailedPrecondition(
                f"generation server {self.url} returned no input token log-probabilities "
                "(decoder_input_details): it does not speak TGI's /generate in full"
            )
        total, covered = 0.0, 0
        for token in reversed(prefill):
            if covered + len(token.text) > tail:
                break
            covered += len(token.text)
            if token.logprob is None:  # the first input token has none
                raise FailedPrecondition(f"the text to score is all of the input to {self.url}")
            total += float(token.logprob)
        return total

    def score(self, prompt: str, completions: list[str], contexts: list[str] = ()) -> list[float]:
        """log p(completion | prompt + context) of each completion, one request each (the server
        caches the shared prompt)."""
        contexts = list(contexts) or [""] * len(completions)
        jobs = [
            self._pool.submit(self._tail_logprob, prompt + context + completion, len(completion))
            for completion, context in zip(completions, contexts, strict=True)
        ]
        return [job.result() for job in jobs]

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        jobs = [
            self._pool.submit(self._one, p, sampling, sampling.seed + i * n + j)
            for i, p in enumerate(prompts)
            for j in range(n)
        ]
        results = [job.result() for job in jobs]
        return [results[i * n : (i + 1) * n] for i in range(len(prompts))]
