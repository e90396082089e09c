"""Course figures: SVG diagrams kept beside the lessons, sanitised, inlined with alt text and a caption."""
from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lessons.figures import SvgError, parse_figure_block, sanitize_svg
from lessons.markdown import render_markdown
from lessons.models import Course, Figure, Lesson
from lessons.notebooks import lesson_notebook
from lessons.services import export_course, load_course

ROOT = Path(__file__).resolve().parents[2]
COURSE_DIR = ROOT / "content" / "transformers-architecture"
FIGURE_DIR = COURSE_DIR / "figures"
FENCE = re.compile(r"^```figure\n(.*?)^```", re.M | re.S)
SVG_NS = "{http://www.w3.org/2000/svg}"

SIMPLE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="1" y="1" width="8" height="8" fill="currentColor"></rect></svg>'


def _figure_blocks():
    for path in sorted(COURSE_DIR.glob("*.md")):
        for match in FENCE.finditer(path.read_text(encoding="utf-8")):
            yield path.name, parse_figure_block(match.group(1))


# --- The figures in the course ---------------------------------------------------------------------------

def test_every_module_has_at_least_two_figures_and_the_course_at_least_fourteen():
    per_lesson: dict[str, int] = {}
    for lesson, _ in _figure_blocks():
        per_lesson[lesson] = per_lesson.get(lesson, 0) + 1
    assert len(per_lesson) == 7
    assert min(per_lesson.values()) >= 2
    assert sum(per_lesson.values()) >= 14


@pytest.mark.parametrize(("lesson", "block"), list(_figure_blocks()), ids=lambda v: getattr(v, "name", v))
def test_every_figure_referenced_exists_is_sanitised_svg_and_has_alt_text_and_caption(lesson, block):
    assert block.src.startswith("figures/"), f"{lesson}: figures live in figures/"
    path = FIGURE_DIR / block.name
    assert path.is_file(), f"{lesson} references {block.src}, which does not exist"
    text = path.read_text(encoding="utf-8")
    assert sanitize_svg(text) == text.strip(), f"{block.name} changes when sanitised"
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG_NS}svg" and root.get("viewBox")
    assert root.find(f"{SVG_NS}title").text.strip()
    assert root.find(f"{SVG_NS}desc").text.strip()
    assert len(block.alt) >= 40, f"{block.name}: alt text should say what the figure shows"
    assert block.caption, f"{block.name} has no caption"


def test_every_figure_file_is_used_by_a_lesson():
    used = {block.name for _, block in _figure_blocks()}
    assert {p.name for p in FIGURE_DIR.glob("*.svg")} == used


def test_figure_text_is_big_enough_to_read_on_a_phone():
    # Figures are 560 units wide and shown at the column's width: 18 units is ~11 px on a 390 px phone.
    for path in FIGURE_DIR.glob("*.svg"):
        root = ElementTree.fromstring(path.read_text(encoding="utf-8"))
        assert root.get("viewBox").split()[2] == "560", path.name
        sizes = [float(t.get("font-size")) for t in root.iter(f"{SVG_NS}text")]
        assert sizes and min(sizes) >= 18, path.name


def test_figures_draw_in_the_page_colour_and_the_colour_blind_safe_palette():
    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442", "#888888"}
    for path in FIGURE_DIR.glob("*.svg"):
        root = ElementTree.fromstring(path.read_text(encoding="utf-8"))
        for el in root.iter():
            for attr in ("fill", "stroke"):
                value = el.get(attr)
                assert value in (None, "none", "currentColor") or value in okabe_ito, (path.name, attr, value)
            if el.tag == f"{SVG_NS}text":
                # Text is in the page's colour (or a mid grey), so it reads on a light and a dark page.
                assert el.get("fill") in ("currentColor", "#888888", "#D55E00"), path.name


def test_committed_figures_are_exactly_what_the_drawing_script_produces():
    spec = importlib.util.spec_from_file_location("draw_figures", ROOT / "scripts" / "draw_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.render_all()
    committed = {p.name: p.read_text(encoding="utf-8") for p in FIGURE_DIR.glob("*.svg")}
    assert drawn == committed, "run: python scripts/draw_figures.py"


def test_ascii_diagrams_replaced_by_figures_are_gone():
    bodies = "".join(p.read_text(encoding="utf-8") for p in COURSE_DIR.glob("*.md"))
    for ascii_art in ("[h1] ──► [h2]", "X W_Q ──► Q (n x d_k)", "+-----> softmax(q k^T", "KV: kv1 kv2 kv3 kv4",
                      "multi-head          |", "step 2 (decode):   new token t4", "Token 1 → Hidden State 1",
                      "Time step 2: h₁ → process token 2", "pair i of a query at position m:"):
        assert ascii_art not in bodies


# --- The sanitiser ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("malicious", "forbidden"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect></rect></svg>', "alert"),
        ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect onclick="x()"></rect></svg>', "on"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p><iframe src="//e"></iframe>'
         "</foreignObject></svg>", "foreignObject"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>', "href"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><use href="https://evil.example/s.svg#x"></use></svg>', "evil"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="data:image/svg+xml,abc"></use></svg>', "data:"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/x)"></rect></svg>', "evil"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(//evil.example/x)"></rect></svg>', "evil"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(//evil.example/a.css);</style></svg>', "evil"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/p.png"></image></svg>', "evil"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><animate attributeName="href" to="javascript:alert(1)">'
         "</animate></svg>", "javascript"),
    ],
)
def test_sanitiser_removes_scripts_handlers_and_external_references(malicious, forbidden):
    cleaned = sanitize_svg(malicious)
    assert cleaned.startswith("<svg")
    assert forbidden not in cleaned.replace("xmlns", "").replace("svg+xml", "")


def test_sanitiser_keeps_references_inside_the_figure_and_the_drawing():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><defs><linearGradient id="g">'
           '<stop offset="0" stop-color="#0072B2"></stop></linearGradient></defs>'
           '<rect fill="url(#g)" fill-opacity="0.2" stroke="currentColor"></rect><text x="1">a &lt; b</text></svg>')
    assert sanitize_svg(svg) == svg


def test_sanitiser_rejects_text_that_is_not_an_svg():
    with pytest.raises(SvgError):
        sanitize_svg("<p>not a figure</p>")
    with pytest.raises(SvgError):
        sanitize_svg("<script>alert(1)</script>")


# --- The ```figure fence --------------------------------------------------------------------------------

FENCE_TEXT = "```figure\nsrc: figures/box.svg\nalt: One square, filled in the text colour.\ncaption: A *square* of side $a$.\n```\n"


def test_figure_fence_inlines_the_svg_with_its_alt_text_and_caption():
    rendered = render_markdown(FENCE_TEXT, figures={"box.svg": SIMPLE_SVG})
    assert rendered.figures == ["box.svg"]
    html = rendered.html
    assert html.startswith('<figure class="lesson-figure"><svg ')
    assert 'role="img" aria-label="One square, filled in the text colour."' in html
    assert '<rect x="1" y="1" width="8" height="8" fill="currentColor"></rect>' in html
    assert "<figcaption>A <em>square</em> of side <span class=\"math inline\"><math" in html


def test_a_missing_figure_is_shown_to_the_author_with_its_alt_text():
    html = render_markdown(FENCE_TEXT, figures={}).html
    assert "lesson-figure--missing" in html and "box.svg" in html and "is not in this course" in html
    assert "One square, filled in the text colour." in html
    assert "<svg" not in html


def test_a_figure_without_alt_text_is_not_shown_silently():
    html = render_markdown("```figure\nsrc: figures/box.svg\n```\n", figures={"box.svg": SIMPLE_SVG}).html
    assert "has no alt text" in html


def test_the_lesson_sanitiser_also_strips_external_urls_from_inline_svg():
    html = render_markdown('<svg><rect fill="url(https://evil.example/x)" stroke="url(#ok)"></rect></svg>\n').html
    assert "evil" not in html and 'stroke="url(#ok)"' in html


def test_notebook_shows_the_figure_caption_and_description_and_points_to_the_lesson():
    notebook = lesson_notebook(title="T", body=f"Intro.\n\n{FENCE_TEXT}\nAfter.\n",
                               lesson_url="https://example.test/l/", course_title="C")
    sources = [cell.source for cell in notebook.cells]
    figure_cell = next(s for s in sources if "**Figure**" in s)
    assert "A *square* of side $a$." in figure_cell and "One square, filled" in figure_cell
    assert "https://example.test/l/" in figure_cell
    assert not any("```figure" in s for s in sources)


# --- Storage: loader, exporter, admin, lesson pages --------------------------------------------------------

@pytest.fixture
def course_copy(tmp_path, db):
    target = tmp_path / "course"
    shutil.copytree(COURSE_DIR, target)
    return target


def test_loader_stores_every_figure_and_lessons_inline_them(course_copy):
    report = load_course(directory=course_copy)
    assert len(report.figures_written) == len(list(FIGURE_DIR.glob("*.svg")))
    lesson = Lesson.objects.get(slug="the-problem-with-rnns")
    assert lesson.html.count('<figure class="lesson-figure">') == 2
    assert "lesson-figure--missing" not in "".join(Lesson.objects.values_list("html", flat=True))
    assert load_course(directory=course_copy).figures_written == []


def test_export_writes_figures_back_and_the_loader_round_trips(course_copy, tmp_path):
    load_course(directory=course_copy)
    course = Course.objects.get()
    figure = Figure.objects.get(name="01-unrolled-rnn.svg")
    figure.svg = figure.svg.replace("loss L", "the loss")
    figure.save()
    written = export_course(course=course, directory=course_copy)
    assert written == [course_copy / "figures" / "01-unrolled-rnn.svg"]
    assert "the loss" in written[0].read_text(encoding="utf-8")
    fresh = tmp_path / "fresh"
    export_course(course=course, directory=fresh)
    Figure.objects.all().delete()
    load_course(directory=fresh)
    assert "the loss" in Figure.objects.get(name="01-unrolled-rnn.svg").svg


def test_loader_keeps_a_figure_edited_in_the_admin_unless_forced(course_copy):
    load_course(directory=course_copy)
    figure = Figure.objects.get(name="05-rotary.svg")
    figure.svg = figure.svg.replace("q at m", "query at m")
    figure.save()
    path = course_copy / "figures" / "05-rotary.svg"
    path.write_text(path.read_text(encoding="utf-8").replace("k at n", "key at n"), encoding="utf-8")
    report = load_course(directory=course_copy)
    assert report.figures_kept_admin_edits == ["05-rotary.svg"]
    assert "query at m" in Figure.objects.get(pk=figure.pk).svg
    assert load_course(directory=course_copy, force=True).figures_written == ["05-rotary.svg"]
    assert "key at n" in Figure.objects.get(pk=figure.pk).svg


def test_changing_a_figure_rerenders_the_lessons_that_show_it(client, course_copy):
    load_course(directory=course_copy)
    lesson = Lesson.objects.get(slug="positional-encoding")
    url = lesson.get_absolute_url()
    assert ">q at m</text>" in client.get(url).content.decode()
    figure = Figure.objects.get(name="05-rotary.svg")
    figure.svg = figure.svg.replace(">q at m</text>", ">query at m</text>")
    figure.save()
    html = client.get(url).content.decode()
    assert ">query at m</text>" in html and ">q at m</text>" not in html


def test_lesson_page_shows_figures_inline_with_alt_text_and_caption(client, course):
    html = client.get("/courses/transformers-architecture/the-full-transformer/").content.decode()
    assert html.count('<figure class="lesson-figure"><svg') == 2
    assert 'role="img" aria-label="Two stacks side by side.' in html
    assert "<figcaption>One sublayer in Post-LN" in html


def test_admin_upload_of_an_svg_is_sanitised(admin_client, course):
    upload = SimpleUploadedFile(
        "evil.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
        b'<rect width="5" height="5" fill="url(https://evil.example/x)"></rect></svg>',
        content_type="image/svg+xml",
    )
    response = admin_client.post(
        reverse("admin:lessons_figure_add"),
        {"course": course.pk, "name": "99-uploaded.svg", "upload": upload, "svg": ""},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    svg = Figure.objects.get(name="99-uploaded.svg").svg
    assert svg.startswith("<svg") and "<rect" in svg
    assert "alert" not in svg and "onload" not in svg and "evil" not in svg


def test_admin_refuses_an_upload_that_is_not_an_svg(admin_client, course):
    upload = SimpleUploadedFile("x.svg", b"<html><script>alert(1)</script></html>", content_type="image/svg+xml")
    response = admin_client.post(
        reverse("admin:lessons_figure_add"),
        {"course": course.pk, "name": "98-bad.svg", "upload": upload, "svg": ""},
    )
    assert response.status_code == 200
    assert "not an SVG figure" in response.content.decode()
    assert not Figure.objects.filter(name="98-bad.svg").exists()
