"""Controller service (see services/controller/server.py for what is built so far)."""
