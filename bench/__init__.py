"""Benchmarks for issue #8 (performance budgets). Entry point: ``make bench`` -> ``bench/run_all.py``."""
