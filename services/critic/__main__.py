"""`python -m services.critic`: run the critic service alone (what its container runs)."""

from services.critic.server import build
from shared.service_main import run_service

if __name__ == "__main__":
    run_service("critic", build)
