"""Stand-in generation backends for tests of what is sent to a model, not of a model."""

from __future__ import annotations


class RecordingBackend:
    """A stand-in model that records the prompts it is sent (what is tested is the prompt, not a model)."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.calls: list[tuple[list[str], int, int]] = []  # (prompts, n, sampling seed) per call

    def generate(self, prompts, n, sampling):
        self.prompts += prompts
        self.calls.append((list(prompts), n, sampling.seed))
        call = len(self.calls)  # each output says where it came from: call, prompt and sample
        return [[f"SELECT {call}, {p}, {i}" for i in range(n)] for p in range(len(prompts))]

    def count_tokens(self, text):
        return len(text.split())

    def load(self, spec):
        raise NotImplementedError

    def info(self):
        from services.generation.backends import ModelInfo

        return ModelInfo(version="recorder")
