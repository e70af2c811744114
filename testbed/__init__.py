"""Real parts to stand a system up with, for tests and benchmarks alike: tiny random models of real
architectures, fixture databases, service processes on loopback ports, a loopback stack whose
generation server is scripted, a llama.cpp server, a hostile-SQL corpus and the reference evaluator.
Public code (benchmarks import it; nothing under shared/ or services/ does)."""
