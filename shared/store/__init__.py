"""The sqldistill store: SQLAlchemy 2 models, Alembic migrations, idempotent writes."""

from shared.store.models import (  # noqa: F401
    AskedQuestion,
    Base,
    Candidate,
    Dataset,
    Evaluation,
    Event,
    ModelVersion,
    Round,
    Run,
    Source,
    TrainingJob,
    Verdict,
)
from shared.store.store import Store  # noqa: F401
