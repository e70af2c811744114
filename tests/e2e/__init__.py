"""e2e tier (see tests/conftest.py for the markers)."""
