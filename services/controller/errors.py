"""What a round's step raises when a model version cannot be served or did not write what it was
asked for. In a round the step fails (and is retried, as any failed step); Ask turns WrongWriter
into FAILED_PRECONDITION, "ask again"."""

from __future__ import annotations


class RolloutError(Exception):
    """The version could not be put into service; the previous one is serving again."""


class WrongWriter(RolloutError):
    """The generation slot holds another version than the caller expected: nothing it wrote is used."""
