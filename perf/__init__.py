"""Benchmarks of the performance budgets (docs/performance.md). Entry point: ``make bench`` -> ``perf/run_all.py``."""
