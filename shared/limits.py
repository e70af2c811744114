"""Values and limits that a caller validates and a service enforces: one table both sides import,
so a run's settings are refused at StartRun rather than rounds later inside a job."""

from __future__ import annotations

TRAIN_PRECISIONS = ("auto", "fp32", "bf16")  # the training matmuls' format (trained weights stay fp32)
