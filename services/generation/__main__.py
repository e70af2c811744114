"""`python -m services.generation`: run the generation service alone (what its container runs)."""

from services.generation.server import build
from shared.service_main import run_service

if __name__ == "__main__":
    run_service("generation", build)
