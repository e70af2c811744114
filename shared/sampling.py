"""How SQL is sampled, as one type from a run's settings to the decoding loop: the controller builds
it from RunSettings, sends it as SamplingParams (shared/pbconvert.py), generation reads it back and
normalises it once (`normalised`), and every backend decodes from it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared import defaults
from shared.prompts import STOP_SEQUENCES


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0  # 1.0 = no nucleus cut
    max_new_tokens: int = defaults.MAX_NEW_TOKENS
    seed: int = 0
    stop: tuple[str, ...] = STOP_SEQUENCES

    def normalised(self) -> Sampling:
        """Zero top_p / max_new_tokens mean their defaults (a message's unset fields); the prompt's own
        stop sequences always apply, before any the caller adds."""
        return replace(
            self,
            top_p=self.top_p or 1.0,
            max_new_tokens=self.max_new_tokens or defaults.MAX_NEW_TOKENS,
            stop=tuple(dict.fromkeys([*STOP_SEQUENCES, *self.stop])),
        )
