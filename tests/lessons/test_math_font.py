"""The OpenType MATH font is served from the system font package as a static file, never from a CDN."""
from __future__ import annotations

from lessons.staticfiles import MATH_FONT_FILE, MATH_FONT_STATIC_PATH, MathFontFinder


def test_finder_serves_the_stix_math_font_under_fonts(monkeypatch, tmp_path):
    (tmp_path / MATH_FONT_FILE).write_bytes(b"OTTO fake font")
    monkeypatch.setenv("MATH_FONT_DIR", str(tmp_path))
    finder = MathFontFinder()
    assert finder.find(MATH_FONT_STATIC_PATH) == str(tmp_path / MATH_FONT_FILE)
    assert finder.find("fonts/other.otf") is None
    assert [(path, storage.prefix) for path, storage in finder.list([])] == [(MATH_FONT_FILE, "fonts")]
    assert finder.check() == []


def test_a_missing_font_package_is_a_system_check_warning_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MATH_FONT_DIR", str(tmp_path))
    finder = MathFontFinder()
    assert finder.find(MATH_FONT_STATIC_PATH) is None
    assert list(finder.list([])) == []
    (warning,) = finder.check()
    assert warning.id == "lessons.W001" and "fonts-stix" in warning.hint
