"""Course figures in a real browser: on a phone and on a desktop, no label of a figure overlaps another or leaves
the figure, and the smallest label is still readable."""
import pytest

from lessons.models import Lesson
from tests.support.browser import expect

# For each inline figure: labels sticking out of the SVG, pairs of labels whose boxes overlap, smallest font in px.
MEASURE = """() => [...document.querySelectorAll('figure.lesson-figure svg')].map((svg) => {
  const frame = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('text')].map((t) => [t.textContent, t.getBoundingClientRect()]);
  const outside = labels.filter(([, r]) => r.left < frame.left - 1 || r.right > frame.right + 1).map(([s]) => s);
  const overlaps = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const [a, ra] = labels[i], [b, rb] = labels[j];
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 2) overlaps.push(a + ' / ' + b);
    }
  }
  const scale = frame.width / svg.viewBox.baseVal.width;
  const smallest = Math.min(...[...svg.querySelectorAll('text')].map((t) => parseFloat(t.getAttribute('font-size')) * scale));
  return {name: svg.getAttribute('aria-label').slice(0, 50), outside, overlaps, smallest};
})"""


@pytest.mark.parametrize("screen", ["mobile_page", "page"])
def test_figure_labels_do_not_overlap_and_stay_readable(site, screen, request):
    page = request.getfixturevalue(screen)
    minimum_px = 10 if screen == "mobile_page" else 14
    for lesson in Lesson.objects.select_related("module__course").order_by("module__order"):
        page.goto(lesson.get_absolute_url())
        expect(page.locator("figure.lesson-figure svg").first).to_be_visible()
        figures = page.evaluate(MEASURE)
        assert len(figures) >= 2, lesson.slug
        for figure in figures:
            assert figure["outside"] == [], (lesson.slug, figure)
            assert figure["overlaps"] == [], (lesson.slug, figure)
            assert figure["smallest"] >= minimum_px, (lesson.slug, figure)
