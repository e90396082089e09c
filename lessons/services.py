"""Writes for courses and lessons: the content loader/exporter (the layer above lessons, quizzes and figures)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from quizzes.content import normalize_quiz_data, quiz_to_data, save_quiz_data

from .figures import FIGURE_NAME, SvgError, sanitize_svg
from .models import Course, Difficulty, Figure, Lesson, Module, forget_rendered_lessons
from .rendering import ensure_rendered, refresh_render_cache, sha256_hex

# The render cache lives in lessons.rendering; these names stay importable from here.
__all__ = ["ensure_rendered", "forget_rendered_lessons", "refresh_render_cache"]


# --- Content files ------------------------------------------------------------------------------------

@dataclass
class ModuleSource:
    """One module as it reads in a content file (front matter + body)."""

    slug: str
    order: int
    title: str
    summary: str
    difficulty: str
    body: str
    quiz: dict | None = None
    path: Path | None = None

    def content_hash(self) -> str:
        data = {
            "slug": self.slug, "order": self.order, "title": self.title, "summary": self.summary,
            "difficulty": self.difficulty, "body": self.body.strip(), "quiz": self.quiz,
        }
        return sha256_hex(json.dumps(data, sort_keys=True, ensure_ascii=False))


class ContentError(ValueError):
    pass


def parse_module_file(path: Path) -> ModuleSource:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ContentError(f"{path}: missing YAML front matter")
    try:
        _, front, body = text.split("---", 2)
    except ValueError as exc:
        raise ContentError(f"{path}: front matter is not closed with ---") from exc
    meta = yaml.safe_load(front) or {}
    missing = [key for key in ("title", "slug", "order", "difficulty", "summary") if key not in meta]
    if missing:
        raise ContentError(f"{path}: front matter lacks {', '.join(missing)}")
    difficulty = str(meta["difficulty"]).lower()
    if difficulty not in Difficulty.values:
        raise ContentError(f"{path}: difficulty must be one of {', '.join(Difficulty.values)}")
    return ModuleSource(
        slug=str(meta["slug"]),
        order=int(meta["order"]),
        title=str(meta["title"]),
        summary=str(meta["summary"]),
        difficulty=difficulty,
        body=body.lstrip("\n"),
        quiz=normalize_quiz_data(meta.get("quiz")),
        path=path,
    )


def module_source_from_db(module: Module) -> ModuleSource:
    return ModuleSource(
        slug=module.lesson.slug,
        order=module.order,
        title=module.title,
        summary=module.summary,
        difficulty=module.difficulty,
        body=module.lesson.body,
        quiz=quiz_to_data(module),
    )


def format_module_file(source: ModuleSource) -> str:
    meta = {
        "title": source.title,
        "slug": source.slug,
        "order": source.order,
        "difficulty": source.difficulty,
        "summary": source.summary,
    }
    if source.quiz:
        meta["quiz"] = source.quiz
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=110)
    return f"---\n{front}---\n\n{source.body.strip()}\n"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_admin_edits: list[str] = field(default_factory=list)
    overwritten_admin_edits: list[str] = field(default_factory=list)
    figures_written: list[str] = field(default_factory=list)
    figures_kept_admin_edits: list[str] = field(default_factory=list)
    rerendered: list[str] = field(default_factory=list)  # unchanged text, re-rendered for a new glossary

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.overwritten_admin_edits or self.figures_written)


def read_course_dir(directory: Path) -> tuple[dict, list[ModuleSource]]:
    course_file = directory / "course.yaml"
    if not course_file.exists():
        raise ContentError(f"{directory}: no course.yaml")
    course_meta = yaml.safe_load(course_file.read_text(encoding="utf-8")) or {}
    sources = [parse_module_file(p) for p in sorted(directory.glob("*.md"))]
    orders = [s.order for s in sources]
    if len(set(orders)) != len(orders):
        raise ContentError(f"{directory}: two modules share an order number")
    slugs = [s.slug for s in sources]
    if len(set(slugs)) != len(slugs):
        raise ContentError(f"{directory}: two modules share a slug")
    return course_meta, sources


def _apply_source(module: Module, source: ModuleSource) -> None:
    module.order = source.order
    module.title = source.title
    module.summary = source.summary
    module.difficulty = source.difficulty
    module.save()
    lesson = getattr(module, "lesson", None) or Lesson(module=module)
    lesson.slug = source.slug
    lesson.body = source.body
    lesson.loaded_hash = source.content_hash()
    lesson.loaded_at = timezone.now()
    lesson.save()
    save_quiz_data(module, source.quiz)


@transaction.atomic
def load_course(*, directory: Path, force: bool = False) -> LoadReport:
    """Load a course directory into the database.

    Idempotent: an unchanged file changes nothing. A module whose database copy differs from what was last
    loaded was edited in the admin; it is kept (reported in ``kept_admin_edits``) unless ``force``.
    """
    course_meta, sources = read_course_dir(directory)
    report = LoadReport()
    course, _ = Course.objects.get_or_create(
        slug=course_meta["slug"], defaults={"title": course_meta.get("title", course_meta["slug"])}
    )
    course_fields = {k: course_meta[k] for k in ("title", "tagline", "description", "issuer_name") if k in course_meta}
    if any(getattr(course, k) != v for k, v in course_fields.items()):
        for key, value in course_fields.items():
            setattr(course, key, value)
        course.save()

    _load_figures(course=course, directory=directory / "figures", force=force, report=report)

    existing = {
        lesson.slug: lesson.module
        for lesson in Lesson.objects.filter(module__course=course).select_related("module")
    }
    # Free order numbers first so swapping two modules' order cannot hit the unique constraint.
    incoming = {s.slug for s in sources}
    for source in sources:
        module = existing.get(source.slug)
        if module is None:
            continue
        file_hash = source.content_hash()
        db_hash = module_source_from_db(module).content_hash()
        lesson = module.lesson
        if db_hash == file_hash:
            report.unchanged.append(source.slug)
            if lesson.loaded_hash != file_hash:
                Lesson.objects.filter(pk=lesson.pk).update(loaded_hash=file_hash)
            continue
        edited_in_admin = db_hash != lesson.loaded_hash
        if edited_in_admin and not force:
            report.kept_admin_edits.append(source.slug)
            continue
        (report.overwritten_admin_edits if edited_in_admin else report.updated).append(source.slug)
    to_write = set(report.updated) | set(report.overwritten_admin_edits)
    max_order = max([m.order for m in existing.values()] + [s.order for s in sources] + [0])
    for offset, slug in enumerate(sorted(to_write)):
        module = existing[slug]
        module.order = max_order + 1000 + offset
        module.save(update_fields=["order"])
    for source in sources:
        if source.slug in to_write:
            _apply_source(existing[source.slug], source)
        elif source.slug not in existing:
            _apply_source(Module(course=course, order=source.order), source)
            report.created.append(source.slug)
    stale = set(existing) - incoming
    if stale:
        # Modules removed from the files are unpublished, never deleted: learners' progress points at them.
        Module.objects.filter(course=course, lesson__slug__in=stale).update(published=False)
    # Glossary links are part of the cached HTML: a changed glossary re-renders every lesson now (saving bumps
    # the page cache's generation), not on each lesson's next view behind a stale cached page.
    written = {*report.created, *report.updated, *report.overwritten_admin_edits}
    for lesson in Lesson.objects.filter(module__course=course).select_related("module__course"):
        if refresh_render_cache(lesson):
            lesson.save(update_fields=["html", "toc", "word_count", "reading_minutes", "rendered_hash"])
            if lesson.slug not in written:
                report.rerendered.append(lesson.slug)
    return report


def read_figure_dir(directory: Path) -> dict[str, str]:
    """``figures/*.svg`` of a course directory, sanitised, by file name."""
    figures = {}
    for path in sorted(directory.glob("*.svg")) if directory.is_dir() else []:
        if not FIGURE_NAME.match(path.name):
            raise ContentError(f"{path}: figure names are lower-case letters, digits and dashes, ending .svg")
        try:
            figures[path.name] = sanitize_svg(path.read_text(encoding="utf-8"))
        except SvgError as exc:
            raise ContentError(f"{path}: {exc}") from exc
    return figures


def _load_figures(*, course: Course, directory: Path, force: bool, report: LoadReport) -> None:
    """Same rule as for lessons: a figure edited in the admin since the last load is kept unless ``force``."""
    stored = {figure.name: figure for figure in Figure.objects.filter(course=course)}
    for name, svg in read_figure_dir(directory).items():
        figure = stored.get(name)
        loaded_hash = sha256_hex(svg)
        if figure is not None and figure.svg == svg:
            if figure.loaded_hash != loaded_hash:
                Figure.objects.filter(pk=figure.pk).update(loaded_hash=loaded_hash)
            continue
        if figure is not None and sha256_hex(figure.svg) != figure.loaded_hash and not force:
            report.figures_kept_admin_edits.append(name)
            continue
        figure = figure or Figure(course=course, name=name)
        figure.svg = svg
        figure.loaded_hash = loaded_hash
        figure.save()
        report.figures_written.append(name)


def _sanitized_or_none(path: Path) -> str | None:
    try:
        return sanitize_svg(path.read_text(encoding="utf-8"))
    except SvgError:
        return None


def export_course(*, course: Course, directory: Path) -> list[Path]:
    """Write the database's course back to Markdown files in the loader's format; returns the files changed.

    A file whose content the database matches is left byte for byte as it is (its hand-written YAML keeps its
    wrapping), and a module whose front matter is unchanged gets only its body replaced, so an admin edit
    changes only the lines that were edited.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    course_meta = {
        "slug": course.slug, "title": course.title, "tagline": course.tagline,
        "description": course.description, "issuer_name": course.issuer_name,
    }
    course_file = directory / "course.yaml"
    on_disk = yaml.safe_load(course_file.read_text(encoding="utf-8")) if course_file.exists() else None
    if not isinstance(on_disk, dict) or any(on_disk.get(k) != v for k, v in course_meta.items()):
        course_file.write_text(yaml.safe_dump(course_meta, sort_keys=False, allow_unicode=True, width=110),
                               encoding="utf-8")
        written.append(course_file)
    figure_dir = directory / "figures"
    for figure in Figure.objects.filter(course=course):
        path = figure_dir / figure.name
        if not path.exists() or _sanitized_or_none(path) != figure.svg:
            figure_dir.mkdir(exist_ok=True)
            path.write_text(figure.svg, encoding="utf-8", newline="\n")
            written.append(path)
    modules = Module.objects.filter(course=course).select_related("lesson").order_by("order")
    for module in modules:
        source = module_source_from_db(module)
        matches = list(directory.glob(f"*-{source.slug}.md"))
        path = matches[0] if matches else directory / f"{module.order:02d}-{source.slug}.md"
        text = _module_file_text(source, path if path.exists() else None)
        if text is not None:
            path.write_text(text, encoding="utf-8", newline="\n")
            written.append(path)
    return written


def _module_file_text(source: ModuleSource, existing_path: Path | None) -> str | None:
    """The new text of a module file, or None when the file already says what the database says."""
    if existing_path is None:
        return format_module_file(source)
    text = existing_path.read_text(encoding="utf-8")
    existing = parse_module_file(existing_path)
    if existing.content_hash() == source.content_hash():
        return None
    same_front_matter = all(
        getattr(existing, name) == getattr(source, name)
        for name in ("slug", "order", "title", "summary", "difficulty", "quiz")
    )
    if not same_front_matter:
        return format_module_file(source)
    head = text[: len(text) - len(existing.body)]  # front matter and the blank lines after it, verbatim
    return f"{head}{source.body.strip()}\n"
