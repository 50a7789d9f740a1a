"""Kehu benchmarks (issue 2 §6): ``make bench`` / ``python -m bench.run``; results in docs/benchmarks.md."""
