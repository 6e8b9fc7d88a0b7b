"""Benchmarks: ``python -m bench NAME|all [--quick]``; results are recorded in ``docs/benchmarks.md``."""
