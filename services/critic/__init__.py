"""Critic service: sandboxed SQLite execution, execution and test-suite match, verdicts.

`logic.Critic` is the testable core; `servicer.CriticServicer` is the thin gRPC layer.
"""
