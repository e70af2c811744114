"""Generation service (see services/generation/server.py for what is built so far)."""
