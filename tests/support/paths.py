"""Where things are: the checkout, and the real course that `make run` loads."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE_DIR = REPO / "content" / "transformers-architecture"
COURSE_URL_PATH = "/courses/transformers-architecture/"
