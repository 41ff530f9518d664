"""``manage.py messages_check``: fail when a catalogue misses, or has not translated, a string
of the source (``make messages`` then translate; README "Languages")."""

from django.core.management.base import BaseCommand, CommandError

from chatassist.catalogues import catalogue_problems


class Command(BaseCommand):
    help = "Check the translation catalogues against the source strings (no file is changed)."

    def handle(self, *args, **options):
        results = catalogue_problems()
        failing = [result for result in results if result.failing]
        for result in results:
            for title, entries in (
                ("missing (in the source, not in the catalogue)", result.missing),
                ("untranslated", result.untranslated),
                ("fuzzy", result.fuzzy),
                ("obsolete (no longer in the source; `make messages` drops them)", result.obsolete),
            ):
                if entries:
                    self.stdout.write(f"{result.path}: {len(entries)} {title}:")
                    for entry in entries:
                        self.stdout.write(f"    msgid {str(entry)!r}")
        if failing:
            raise CommandError(
                f"{len(failing)} catalogue(s) out of date: run `make messages`, translate the "
                "entries listed above (no fuzzy ones), then `make messages-check`."
            )
        self.stdout.write(f"{len(results)} catalogues cover every source string.")
