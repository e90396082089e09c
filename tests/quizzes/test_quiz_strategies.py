"""No surface strategy passes a quiz: a learner who has not read the lesson must not be able to answer from the
shape of the choices.

Every module's whole bank is read from the content files through the project's own parser, so questions added
later are covered too. A strategy that answers at most 40 % of a bank right passes a five-question draw at the
80 % mark only rarely (it needs four right out of five).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from lessons.services import read_course_dir

COURSE_DIR = Path(__file__).resolve().parents[2] / "content" / "transformers-architecture"
MOST_A_STRATEGY_MAY_GET_RIGHT = 0.40
WORD = re.compile(r"[a-z0-9]+")


def choice_texts(question: dict) -> tuple[list[str], int]:
    """The choice texts in stored order and the index of the right one."""
    texts, right = [], -1
    for index, choice in enumerate(question["choices"]):
        if isinstance(choice, dict):
            texts.append(str(choice["text"]).strip())
            if choice.get("correct"):
                right = index
        else:
            texts.append(str(choice).strip())
    return texts, right


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def picks_longest(prompt: str, texts: list[str]) -> set[int]:
    # A tie counts for the guesser: picking among the tied longest is at least as good as a coin toss.
    longest = max(len(text) for text in texts)
    return {i for i, text in enumerate(texts) if len(text) == longest}


def picks_shortest(prompt: str, texts: list[str]) -> set[int]:
    shortest = min(len(text) for text in texts)
    return {i for i, text in enumerate(texts) if len(text) == shortest}


def picks_most_prompt_words(prompt: str, texts: list[str]) -> set[int]:
    prompt_words = words(prompt)
    overlaps = [len(words(text) & prompt_words) for text in texts]
    return {overlaps.index(max(overlaps))}  # ties: the first stored


def picks_position(k: int) -> Callable[[str, list[str]], set[int]]:
    return lambda prompt, texts: {k}


STRATEGIES: dict[str, Callable[[str, list[str]], set[int]]] = {
    "longest": picks_longest,
    "shortest": picks_shortest,
    "most prompt words": picks_most_prompt_words,
    **{f"position {k}": picks_position(k) for k in range(4)},
}


def share_right(questions: list[dict], strategy: Callable[[str, list[str]], set[int]]) -> float:
    hits = 0
    for question in questions:
        texts, right = choice_texts(question)
        hits += right in strategy(str(question["prompt"]), texts)
    return hits / len(questions)


def banks() -> list[tuple[str, list[dict]]]:
    _, sources = read_course_dir(COURSE_DIR)
    return [(source.slug, source.quiz["questions"]) for source in sources if source.quiz]


def shares_table(rows: list[tuple[str, list[dict]]]) -> str:
    header = f"{'module':38} {'n':>3} " + " ".join(f"{name:>17}" for name in STRATEGIES)
    lines = [header]
    for slug, questions in rows:
        shares = " ".join(f"{share_right(questions, s):>17.0%}" for s in STRATEGIES.values())
        lines.append(f"{slug:38} {len(questions):>3} {shares}")
    return "\n".join(lines)


def test_the_strategies_pick_what_they_say():
    texts = ["a b", "prompt words here", "x", "a b c d e f g h i j k"]
    assert picks_longest("", texts) == {3}
    assert picks_shortest("", texts) == {2}
    assert picks_most_prompt_words("which prompt words?", texts) == {1}
    assert picks_most_prompt_words("nothing shared", texts) == {0}


def test_a_bank_where_the_right_choice_is_always_longest_is_caught():
    question = {"prompt": "Q?", "choices": ["short", "tiny", {"text": "the longest choice of all", "correct": True},
                                            "small"]}
    assert share_right([question] * 3, picks_longest) == 1.0
    assert share_right([question] * 3, picks_position(2)) == 1.0
    assert share_right([question] * 3, picks_shortest) == 0.0


@pytest.mark.parametrize("slug, questions", banks(), ids=[slug for slug, _ in banks()])
def test_no_surface_strategy_answers_more_than_40_percent_of_a_bank(slug, questions):
    print("\n" + shares_table([(slug, questions)]))
    too_good = {
        name: f"{share_right(questions, strategy):.0%}"
        for name, strategy in STRATEGIES.items()
        if share_right(questions, strategy) > MOST_A_STRATEGY_MAY_GET_RIGHT
    }
    assert not too_good, f"{slug}: these strategies answer too many questions right: {too_good}"


def test_print_the_shares_of_every_strategy_for_every_module():
    table = shares_table(banks())
    print("\n" + table)
    assert len(table.splitlines()) == 1 + len(banks())
