"""`python -m services.controller`: run the controller service alone (what its container runs)."""

from services.controller.server import build
from shared.service_main import run_service

if __name__ == "__main__":
    run_service("controller", build)
