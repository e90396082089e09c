"""Extract and run a lesson's code listings, so the course can promise that every listing runs.

Rules (docs/content-format.md): ```python blocks run in order in one namespace per lesson; ```python no-run
blocks are skipped; an ```output block right after a python block is what that block prints (exactly, or with
numbers masked for ```output approx).
"""
from __future__ import annotations

import contextlib
import io
import re
import time
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

_PARSER = MarkdownIt("commonmark").use(front_matter_plugin)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class CodeBlock:
    code: str
    line: int
    expected_output: str | None = None
    approx: bool = False


@dataclass
class BlockResult:
    block: CodeBlock
    stdout: str
    seconds: float


@dataclass
class LessonRun:
    results: list[BlockResult] = field(default_factory=list)
    skipped: int = 0


def extract_blocks(markdown: str) -> tuple[list[CodeBlock], int]:
    """Runnable python blocks (with the output block that follows each, if any) and the count of no-run ones."""
    fences = [t for t in _PARSER.parse(markdown) if t.type == "fence"]
    blocks: list[CodeBlock] = []
    skipped = 0
    for index, token in enumerate(fences):
        info = token.info.split()
        if not info or info[0] != "python":
            continue
        if "no-run" in info[1:]:
            skipped += 1
            continue
        block = CodeBlock(code=token.content, line=(token.map or [0])[0] + 1)
        following = fences[index + 1] if index + 1 < len(fences) else None
        # Only an output fence that directly follows this block (nothing but blank lines between).
        if (
            following is not None
            and following.info.split()[:1] == ["output"]
            and token.map
            and following.map
            and following.map[0] - token.map[1] <= 1
        ):
            block.expected_output = following.content
            block.approx = "approx" in following.info.split()[1:]
        blocks.append(block)
    return blocks, skipped


def normalise_output(text: str, *, approx: bool = False) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    out = "\n".join(lines).strip("\n")
    if not approx:
        return out
    # Numbers may differ by run or machine, and so may the padding of right-aligned columns.
    return re.sub(r"[ \t]+", " ", _NUMBER.sub("<n>", out))


def run_blocks(blocks: list[CodeBlock], *, seed: int = 0) -> LessonRun:
    """Execute blocks in order in one namespace; raises the first block's exception with its line number."""
    import torch

    torch.manual_seed(seed)
    namespace: dict = {"__name__": "__main__"}
    run = LessonRun()
    for block in blocks:
        buffer = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.code, f"<lesson block at line {block.line}>", "exec"), namespace)  # noqa: S102
        run.results.append(BlockResult(block=block, stdout=buffer.getvalue(), seconds=time.perf_counter() - started))
    return run
