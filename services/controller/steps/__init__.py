"""The steps of a round, one module each; services/controller/rounds.py dispatches between them."""
