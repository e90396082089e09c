"""The test suite's own layout: one place for what tests share, one folder for browser tests, slow tests marked
by rule.

Read from the source with ``ast`` like tests/test_import_graph.py: test modules and conftest files import from
``tests.support`` only, never from one another (a helper imported from a test module or a conftest ties two tests
together and hides where it lives); conftest files hold fixtures and hooks; every other shared file is in
tests/support/; browser tests are in tests/browser/, where they are marked `browser` and `slow` without asking.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.slow import slow_reason

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"
BROWSER = TESTS / "browser"
# What only a browser test needs: a module outside tests/browser/ that asks for one of these is a browser test in
# the wrong place (and would run without the browser folder's fixtures and marks).
BROWSER_IMPORTS = ("playwright", "axe_playwright_python", "tests.support.browser", "tests.support.charts")
BROWSER_FIXTURES = {"browser", "context", "page", "mobile_page", "visitor_page", "signed_in_page", "site",
                    "live_server"}


def _python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def _module_name(path: Path) -> str:
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, package: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in ``source``, a module of ``package``: relative imports resolved,
    function-local ones included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)] + ([base] if base else []))
            found += [(node.lineno, base if node.module else f"{base}.{alias.name}") for alias in node.names]
    return found


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    module = _module_name(path)
    return _imports(path.read_text(encoding="utf-8"), module if path.name == "__init__.py" else module.rpartition(".")[0])


def _in_support(module: str) -> bool:
    return module == "tests.support" or module.startswith("tests.support.")


def _from_tests(module: str) -> bool:
    return module == "tests" or module.startswith("tests.")


def test_files_outside_support_are_test_modules_conftests_or_packages():
    stray = [
        str(path.relative_to(TESTS)) for path in _python_files(TESTS)
        if not path.is_relative_to(SUPPORT) and path.name not in {"conftest.py", "__init__.py"}
        and not path.name.startswith("test_")
    ]
    assert stray == [], "shared code belongs in tests/support/"


def test_tests_and_conftests_import_from_the_suite_only_what_support_offers():
    wrong = [
        f"{path.relative_to(TESTS)}:{line} imports {module}"
        for path in _python_files(TESTS) if not path.is_relative_to(SUPPORT)
        for line, module in _imported_modules(path)
        if _from_tests(module) and not _in_support(module)
    ]
    assert wrong == [], "import it from tests.support (move it there if it is shared)"


def test_support_never_imports_a_test_module_or_a_conftest():
    wrong = [
        f"{path.relative_to(TESTS)}:{line} imports {module}"
        for path in _python_files(SUPPORT)
        for line, module in _imported_modules(path)
        if _from_tests(module) and not _in_support(module)
    ]
    assert wrong == []


def test_conftests_define_only_fixtures_and_hooks():
    wrong = []
    for path in TESTS.rglob("conftest.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                wrong.append(f"{path.relative_to(TESTS)}: class {node.name}")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                is_fixture = any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
                if not is_fixture and not node.name.startswith("pytest_"):
                    wrong.append(f"{path.relative_to(TESTS)}: def {node.name}")
    assert wrong == [], "helpers belong in tests/support/, where test modules can import them"


def test_browser_tests_live_in_the_browser_folder():
    wrong = []
    for path in _python_files(TESTS):
        if path.is_relative_to(BROWSER) or path.is_relative_to(SUPPORT):
            continue
        for line, module in _imported_modules(path):
            if any(module == name or module.startswith(f"{name}.") for name in BROWSER_IMPORTS):
                wrong.append(f"{path.relative_to(TESTS)}:{line} imports {module}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                asked = BROWSER_FIXTURES & {arg.arg for arg in node.args.args}
                if asked:
                    wrong.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.name} uses {sorted(asked)}")
    assert wrong == [], "move browser tests to tests/browser/"


def test_the_import_reader_resolves_relative_and_local_imports():
    source = (
        "import tests.quizzes.conftest\n"
        "from . import conftest\n"
        "from .test_other import thing\n"
        "from tests.support.quizzes import take_quiz\n"
        "def test_x():\n"
        "    from tests.browser.conftest import sign_in\n"
    )
    modules = [module for _, module in _imports(source, "tests.quizzes")]
    assert [m for m in modules if _from_tests(m) and not _in_support(m)] == [
        "tests.quizzes.conftest", "tests.quizzes.conftest", "tests.quizzes.test_other", "tests.browser.conftest"]
    assert _module_name(TESTS / "quizzes" / "test_example.py") == "tests.quizzes.test_example"


@pytest.mark.parametrize(
    ("path", "fixtures", "slow"),
    [
        (BROWSER / "test_new_page.py", ["db"], True),
        (TESTS / "integration" / "test_outage.py", [], True),
        (TESTS / "lessons" / "test_pages.py", ["client", "course"], True),
        (TESTS / "experiments" / "test_runs.py", ["celery_worker_process"], True),
        (TESTS / "quizzes" / "test_quiz_taking.py", ["client", "db", "user"], False),
    ],
    ids=["browser folder", "integration folder", "real course", "real worker", "factory-built course"],
)
def test_slow_tests_are_known_by_their_folder_and_fixtures(path, fixtures, slow):
    assert bool(slow_reason(path=path, fixturenames=fixtures)) is slow


def test_every_browser_test_is_marked_browser_and_slow(request):
    """The marks tests/conftest.py gives on collection, on the browser tests collected in this run."""
    browser_items = [item for item in request.session.items if item.path.is_relative_to(BROWSER)]
    if not browser_items:
        pytest.skip("no browser test is collected in this run")
    unmarked = [item.nodeid for item in browser_items
                if not (item.get_closest_marker("browser") and item.get_closest_marker("slow"))]
    assert unmarked == []
