"""The project's import graph is one-way: no module imports itself back, and each layer imports only below it.

Read from the source with ``ast`` (nothing is imported), so a function-local import counts like any other:
hiding an import inside a function does not make a cycle go away. The layers and the sideways imports allowed
between feature apps are the table in docs/architecture.md; keep the two in step.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "lessons", "quizzes", "certificates", "experiments", "search", "core", "config")

LAYERS = ("platform", "ground", "features", "pages", "root")
# Modules that compose several features: the course loader/exporter, account deletion (it removes a learner's
# data from every app). Every app's views, urls, admin and management commands are pages too. Above them all,
# ``config`` (settings, the URL root, the Celery and WSGI applications) composes the site and nothing imports it.
COMPOSING_MODULES = {"lessons.services", "accounts.services"}
PAGE_MODULE_NAMES = {"views", "urls", "admin"}
GROUND_APPS = {"accounts", "lessons"}
# Imports between two apps of the same layer (pages may import any other page): (importer, imported) -> why.
SIDEWAYS = {
    ("certificates", "quizzes"): "a certificate is earned by passing the course's quizzes",
    ("search", "quizzes"): "the search index holds quiz questions beside lesson text",
}
# Import cycles that must stay, with the reason. Prefer fixing a cycle to listing it here.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that ``name`` imports, anywhere in its body."""

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(owner(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else owner(base))
    found.discard(None)
    found.discard(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def layer_of(module: str) -> str:
    app, _, rest = module.partition(".")
    if app == "config":
        return "root"
    if module in COMPOSING_MODULES or set(rest.split(".")) & PAGE_MODULE_NAMES or ".management." in module:
        return "pages"
    if app == "core":
        return "platform"
    return "ground" if app in GROUND_APPS else "features"


def test_no_module_imports_itself_back(graph):
    cycles = [sorted(cycle) for cycle in _cycles(graph) if cycle not in ALLOWED_CYCLES]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_each_layer_imports_only_below_it_or_its_listed_neighbours(graph):
    wrong = []
    for importer, imported_modules in graph.items():
        for imported in imported_modules:
            importer_app, imported_app = importer.split(".")[0], imported.split(".")[0]
            if importer_app == imported_app:
                continue
            above = LAYERS.index(layer_of(importer)) - LAYERS.index(layer_of(imported))
            sideways_allowed = layer_of(importer) == "pages" or (importer_app, imported_app) in SIDEWAYS
            if above > 0 or (above == 0 and sideways_allowed):
                continue
            wrong.append(f"{importer} ({layer_of(importer)}) -> {imported} ({layer_of(imported)})")
    assert sorted(wrong) == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("core.page_cache", "platform"),
        ("config.urls", "root"),
        ("config.celery", "root"),
        ("lessons.models", "ground"),
        ("lessons.rendering", "ground"),
        ("quizzes.services", "features"),
        ("quizzes.views", "pages"),
        ("lessons.services", "pages"),
        ("lessons.management.commands.load_course", "pages"),
    ],
)
def test_modules_sit_in_the_layer_the_architecture_doc_gives_them(module, layer):
    assert layer_of(module) == layer
