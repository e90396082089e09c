"""Bench-only settings: production settings plus a URLconf with Django's minimal view as a baseline.

Nothing else differs from production, so the figures measure the product's own configuration.
"""
from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "perf.urls"
