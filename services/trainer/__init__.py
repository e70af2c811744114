"""Trainer service (see services/trainer/server.py for what is built so far)."""
