import sys

from django.core.management.base import BaseCommand, CommandError

from assignment import config


class Command(BaseCommand):
    help = (
        "Import the whole assignment configuration (auto_assign, working times, staff) from a "
        "JSON file, or '-' for standard input. Upserts working times by name and staff by "
        "email, deletes nothing, and is all-or-nothing: on any error it names the bad entry, "
        "changes nothing and exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON file, or - for standard input.")

    def handle(self, *args, file: str, **options):
        try:
            text = sys.stdin.read() if file == "-" else _read(file)
            counts = config.import_config(config.load_document(text))
        except config.ConfigError as error:
            raise CommandError(f"Nothing imported. {error}") from None
        self.stdout.write(
            "Imported: {working_times_created} working times created, "
            "{working_times_updated} updated; {staff_created} staff created, "
            "{staff_updated} updated.".format(**counts)
        )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise config.ConfigError(f"Cannot read {path}: {error}.") from None
