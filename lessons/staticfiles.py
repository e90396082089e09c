"""Serves the OpenType MATH font for lesson formulas from the system's font package, as ``fonts/STIXMath-Regular.otf``.

Browsers lay out MathML subscripts, radicals and fractions properly only with a font that has a MATH table;
most systems have none. STIX (SIL Open Font License 1.1) comes from the Debian package ``fonts-stix`` (the
Makefile's APT_PACKAGES) rather than a copy in git, the way ``experiments.staticfiles.PlotlyFinder`` serves
plotly.js from its Python package. Only that one file is exposed.
"""
from __future__ import annotations

import os
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Warning
from django.core.files.storage import FileSystemStorage

MATH_FONT_PREFIX = "fonts"
MATH_FONT_FILE = "STIXMath-Regular.otf"
MATH_FONT_STATIC_PATH = f"{MATH_FONT_PREFIX}/{MATH_FONT_FILE}"
# Where fonts-stix puts it; MATH_FONT_DIR overrides (another distribution, a container image).
DEFAULT_MATH_FONT_DIR = "/usr/share/fonts/opentype/stix-word"


def math_font_dir() -> Path:
    return Path(os.environ.get("MATH_FONT_DIR", DEFAULT_MATH_FONT_DIR))


class MathFontFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        folder = math_font_dir()
        self.file = folder / MATH_FONT_FILE
        self.storage = FileSystemStorage(location=str(folder))
        self.storage.prefix = MATH_FONT_PREFIX  # collectstatic and whitenoise put the file under this prefix

    def _available(self) -> bool:
        return self.file.is_file()

    def check(self, **kwargs) -> list[CheckMessage]:
        if self._available():
            return []
        return [
            Warning(
                f"The math font {self.file} is missing; formulas fall back to the system's fonts.",
                hint="Install the Debian package fonts-stix (`make system-deps`) or set MATH_FONT_DIR.",
                id="lessons.W001",
            )
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path == MATH_FONT_STATIC_PATH and self._available():
            return [str(self.file)] if find_all or kwargs.get("all") else str(self.file)
        return [] if find_all or kwargs.get("all") else None

    def list(self, ignore_patterns):
        if self._available():
            yield MATH_FONT_FILE, self.storage
