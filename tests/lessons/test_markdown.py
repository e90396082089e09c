from xml.etree import ElementTree

from lessons.markdown import render_inline, render_markdown, slugify_heading


def test_python_code_is_highlighted_with_pygments():
    html = render_markdown("```python\nimport torch\nx = 1\n```\n").html
    assert '<span class="kn">import</span>' in html
    assert 'class="language-python"' in html


def test_tables_render_as_html_tables():
    html = render_markdown("| Model | BLEU |\n|---|---|\n| Transformer | 28.4 |\n").html
    assert "<table>" in html and "<th>Model</th>" in html and "<td>28.4</td>" in html


def test_callouts_render_with_their_kind_and_title():
    html = render_markdown('!!! insight "Key Insight"\n    Attention is parallel.\n').html
    assert '<div class="admonition insight">' in html
    assert '<p class="admonition-title">Key Insight</p>' in html
    assert "Attention is parallel." in html


def test_inline_and_display_math_become_mathml():
    html = render_markdown("Scale by $\\sqrt{d_k}$.\n\n$$\\frac{QK^T}{\\sqrt{d_k}}$$\n").html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert 'display="block"' in html
    start = html.index('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    block = html[start: html.index("</math>", start) + len("</math>")]
    tree = ElementTree.fromstring(block)
    tags = {el.tag.split("}")[-1] for el in tree.iter()}
    assert {"mfrac", "msqrt", "msub", "msup"} <= tags


def test_script_in_lesson_text_is_removed():
    html = render_markdown('Hi <script>alert("x")</script> <img src=x onerror="alert(1)"> <a href="javascript:alert(1)">x</a>').html
    assert "<script" not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_headings_get_anchors_and_build_the_table_of_contents():
    rendered = render_markdown("## Problem 1: Vanishing Gradients\n\ntext\n\n### 🔧 LSTMs (1997)\n")
    assert rendered.toc == [
        {"level": 2, "id": "problem-1-vanishing-gradients", "text": "Problem 1: Vanishing Gradients"},
        {"level": 3, "id": "lstms-1997", "text": "🔧 LSTMs (1997)"},
    ]
    assert 'id="problem-1-vanishing-gradients"' in rendered.html
    assert slugify_heading("Side-by-Side: RNN vs Transformer") == "side-by-side-rnn-vs-transformer"


def test_output_blocks_and_experiment_blocks():
    rendered = render_markdown("```output\n42\n```\n\n```experiment\nname: gradient-flow\n```\n")
    assert '<figure class="code-output">' in rendered.html
    assert '<div class="experiment-embed" data-experiment="gradient-flow"></div>' in rendered.html
    assert rendered.experiments == ["gradient-flow"]


def test_reading_time_grows_with_length():
    short = render_markdown("word " * 100)
    long = render_markdown("word " * 2000)
    assert short.reading_minutes == 1
    assert long.reading_minutes == 10


def test_inline_text_renders_math_and_emphasis_without_a_paragraph():
    html = render_inline("Scale by $1/\\sqrt{d_k}$, *not* by `d_k`")
    assert "<math" in html and "<msqrt>" in html and "<em>not</em>" in html and "<code>d_k</code>" in html
    assert not html.startswith("<p>")


def test_script_in_inline_text_is_removed():
    html = render_inline('Pick me <script>alert(1)</script><img src=x onerror="alert(2)">')
    assert "<script" not in html and "onerror" not in html


def test_a_callout_title_ending_in_a_claim_id_gives_the_callout_that_id():
    html = render_markdown('!!! measured "What we measured {#claim-gpu-utilisation}"\n    No source.\n').html
    assert '<div class="admonition measured" id="claim-gpu-utilisation">' in html
    assert '<p class="admonition-title">What we measured</p>' in html
    assert "{#" not in html


def test_a_link_to_a_claim_note_renders_as_a_claim_marker_and_other_links_do_not():
    html = render_markdown("GPU use 80-95% [wrong: see note](#claim-gpu-utilisation), see [above](#problem-2).\n").html
    assert '<a href="#claim-gpu-utilisation" class="claim-marker"' in html
    assert ">wrong: see note</a>" in html
    assert '<a href="#problem-2" rel="noopener noreferrer">above</a>' in html
