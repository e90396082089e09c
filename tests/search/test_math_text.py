"""Formulas in search results read as people type them (``h_(t−1)``), not as MathML's tokens run together
(``h t − 1``, ``h ¯ s``)."""
from __future__ import annotations

import pytest

from lessons.markdown import render_markdown
from search.indexing import lesson_entries, math_text, plain_text


def formula(tex: str) -> str:
    return math_text(render_markdown(f"${tex}$").html)


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("h_t", "h_t"),
        ("h_{t-1}", "h_(t−1)"),
        ("d_{model}", "d_model"),
        (r"\bar{h}_s", "h̄_s"),
        (r"\tilde{C}_t", "C̃_t"),
        (r"h_t^\top W_a \bar{h}_s", "h_t^⊤ W_a h̄_s"),
        (r"\frac{QK^\top}{\sqrt{d_k}}", "QK^⊤/√d_k"),
        (r"\frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}", "(x−μ)/√(σ^2+ϵ)"),
        (r"c_i = \sum_{j=1}^{n} \alpha_{ij} h_j", "c_i = ∑_(j=1)^n α_ij h_j"),
        (r"M_{ij} \in \{0, -\infty\}", "M_ij ∈ {0,−∞}"),
        (r"\log p(x)", "log p(x)"),
    ],
)
def test_a_formula_reads_as_it_is_typed(tex: str, text: str) -> None:
    assert formula(tex) == text


def test_a_sum_and_a_product_of_scripted_factors_keep_their_factors_apart() -> None:
    assert "α_ij h_j" in formula(r"\sum_j \alpha_{ij} h_j")
    assert "α_ijh_j" not in formula(r"\sum_j \alpha_{ij} h_j")


def test_prose_around_a_formula_keeps_its_words_and_spaces() -> None:
    html = render_markdown(r"The decoder compares $h_t$ with every $\bar{h}_s$ first.").html
    assert plain_text(html) == "The decoder compares h_t with every h̄_s first."


def test_punctuation_after_a_formula_or_inline_markup_stays_attached() -> None:
    html = render_markdown("The state $h_t$, then *every* state, and `code`.").html
    assert plain_text(html) == "The state h_t, then every state, and code."


def test_a_section_entry_holds_its_formulas_as_text() -> None:
    html = render_markdown("## Scores\n\nDivide by $\\sqrt{d_k}$ before the softmax.").html
    sections = [e for e in lesson_entries(lesson_html=html, lesson_title="T", questions=[]) if e.kind == "section"]
    assert sections[-1].text == "Divide by √d_k before the softmax."


def test_mathml_that_does_not_parse_falls_back_to_its_tokens() -> None:
    assert math_text("<math><mi>x</mi><mo>=</mo><mn>1</mn>") == "x = 1"
