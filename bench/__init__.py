"""Benchmarks of the service (``python -m bench.intake``); see docs/benchmarks.md."""
