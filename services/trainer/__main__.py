"""`python -m services.trainer`: run the trainer service alone (what its container runs)."""

from services.trainer.server import build
from shared.service_main import run_service

if __name__ == "__main__":
    run_service("trainer", build)
