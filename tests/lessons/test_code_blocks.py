"""Every runnable listing of the course runs, and every shown output is what the code really prints."""
import pytest

from lessons.codeblocks import extract_blocks, normalise_output, run_blocks
from lessons.services import parse_module_file
from tests.support.paths import COURSE_DIR

LESSON_FILES = sorted(COURSE_DIR.glob("*.md"))


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem for p in LESSON_FILES])
def test_every_python_block_runs_and_prints_what_the_lesson_shows(path, executed_listings):
    source = parse_module_file(path)
    blocks, skipped = extract_blocks(source.body)
    assert blocks, f"{path.name} has no runnable python block"
    run = run_blocks(blocks)
    mismatches = []
    for result in run.results:
        expected = result.block.expected_output
        if expected is None:
            continue
        got = normalise_output(result.stdout, approx=result.block.approx)
        want = normalise_output(expected, approx=result.block.approx)
        if got != want:
            mismatches.append(f"line {result.block.line}:\n--- lesson shows\n{want}\n--- code prints\n{got}")
    executed_listings[path.stem] = {
        "blocks": len(run.results),
        "skipped": skipped,
        "checked_outputs": sum(r.block.expected_output is not None for r in run.results),
        "slowest": max(r.seconds for r in run.results),
        "seconds": sum(r.seconds for r in run.results),
    }
    assert not mismatches, "\n\n".join(mismatches)


def test_output_comparison_masks_numbers_only_when_approx():
    assert normalise_output("loss 0.25 \n", approx=True) == normalise_output("loss 0.31", approx=True)
    assert normalise_output("t =  6.6 ms", approx=True) == normalise_output("t = 11.2 ms", approx=True)
    assert normalise_output("loss 0.25") != normalise_output("loss 0.31")
    assert normalise_output("loss 0.25", approx=True) != normalise_output("acc 0.25", approx=True)


def test_extract_blocks_pairs_outputs_and_skips_fragments():
    md = "```python\nprint(1)\n```\n\n```output\n1\n```\n\n```python no-run\nundefined()\n```\n\n```text\nx\n```\n"
    blocks, skipped = extract_blocks(md)
    assert [b.code for b in blocks] == ["print(1)\n"]
    assert blocks[0].expected_output == "1\n"
    assert skipped == 1
