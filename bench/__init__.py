"""Benchmarks of the performance budgets (docs/performance.md). Entry point: ``make bench`` -> ``bench/run_all.py``."""
