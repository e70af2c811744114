"""service tier (see tests/conftest.py for the markers)."""
