"""Serves plotly.js from the installed ``plotly`` Python package, as ``vendor/plotly/plotly.min.js``.

The chart library then always matches the plotly version that builds the figures, comes from our own origin
(never a CDN; the Content-Security-Policy allows only our own scripts), and needs no 4.8 MB copy in git.
Only that one file is exposed: the package folder also holds datasets and a widget bundle nobody should fetch.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Warning
from django.core.files.storage import FileSystemStorage

PLOTLY_PREFIX = "vendor/plotly"
PLOTLY_FILE = "plotly.min.js"
PLOTLY_STATIC_PATH = f"{PLOTLY_PREFIX}/{PLOTLY_FILE}"


def plotly_package_data() -> Path | None:
    # find_spec locates the package without importing it (importing plotly is slow and not needed here).
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        folder = plotly_package_data()
        self.file = folder / PLOTLY_FILE if folder else None
        self.storage = FileSystemStorage(location=str(folder)) if folder else None
        if self.storage is not None:
            self.storage.prefix = PLOTLY_PREFIX  # collectstatic and whitenoise put the file under this prefix

    def _available(self) -> bool:
        return self.file is not None and self.file.is_file()

    def check(self, **kwargs) -> list[CheckMessage]:
        if self._available():
            return []
        return [
            Warning(
                "plotly.js was not found in the installed plotly package; experiment charts will not draw.",
                hint="Install the requirements (`make install`); plotly ships package_data/plotly.min.js.",
                id="experiments.W001",
            )
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path == PLOTLY_STATIC_PATH and self._available():
            return [str(self.file)] if find_all or kwargs.get("all") else str(self.file)
        return [] if find_all or kwargs.get("all") else None

    def list(self, ignore_patterns):
        if self._available():
            yield PLOTLY_FILE, self.storage
