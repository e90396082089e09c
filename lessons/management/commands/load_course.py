from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lessons.services import ContentError, load_course


class Command(BaseCommand):
    help = "Load a course directory (course.yaml + one Markdown file per module) into the database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", nargs="?", default="content/transformers-architecture")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite modules that an admin edited since the last load."
        )

    def handle(self, *args, directory: str, force: bool, **options) -> None:
        try:
            report = load_course(directory=Path(directory), force=force)
        except ContentError as exc:
            raise CommandError(str(exc)) from exc
        for label, slugs in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("OVERWROTE admin edits in", report.overwritten_admin_edits),
            ("figures written", report.figures_written),
            ("re-rendered for the changed glossary", report.rerendered),
        ):
            if slugs:
                self.stdout.write(f"{label}: {', '.join(slugs)}")
        if report.kept_admin_edits:
            self.stdout.write(
                self.style.WARNING(
                    f"kept admin edits (use --force to overwrite): {', '.join(report.kept_admin_edits)}"
                )
            )
        if report.figures_kept_admin_edits:
            self.stdout.write(
                self.style.WARNING(
                    "kept admin edits of figures (use --force to overwrite): "
                    f"{', '.join(report.figures_kept_admin_edits)}"
                )
            )
        self.stdout.write(self.style.SUCCESS("course loaded" if report.changed else "nothing to change"))
