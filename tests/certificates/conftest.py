"""Certificates are tested on the seven-module course of ``seven_modules`` (tests/conftest.py), built by the
factories, so they do not depend on how much of the real course content is written yet."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_files(certificate_files):
    """Every certificate test writes its PDFs and signing key to its own folder, whether or not it issues one."""
