"""The bundled benchmark: ten seeded SQLite databases and hand-written questions, in Spider format.

`python -m shared.bundled.build DEST` (or `make data`) writes it; `shared.bundled.locate.default_dataset`
builds it on first use. See shared/bundled/README.md for the databases and the split.
"""
