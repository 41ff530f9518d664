import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from assignment.durations import parse_duration
from events import retention


class Command(BaseCommand):
    help = (
        "Delete outbound events older than --older-than (e.g. 30d) whose every delivery is "
        "finished (delivered or given up), with their deliveries. An event still pending for "
        "any endpoint is kept. --dry-run only counts. Exit status: 0 done, 1 error (a bad "
        "--older-than, the database is unavailable), 2 bad usage on the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            required=True,
            metavar="DURATION",
            help="Retention, at least 1d: e.g. 30d, 90d, 720h.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; change nothing."
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='Print {"cutoff", "dry_run", "events", "deliveries"}.',
        )

    def handle(self, *args, older_than: str, dry_run: bool, as_json: bool, **options):
        try:
            result = retention.purge_finished_events(
                older_than=parse_duration(older_than), dry_run=dry_run
            )
        except ValueError as error:
            raise CommandError(f"--older-than: {error}") from None
        except DatabaseError as error:
            raise CommandError(f"The database is unavailable: {error}".strip()) from None
        cutoff = result.cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "cutoff": cutoff,
                        "dry_run": result.dry_run,
                        "events": result.events,
                        "deliveries": result.deliveries,
                    }
                )
            )
        elif options["verbosity"] >= 1:
            what = (
                f"{result.events} finished events from before {cutoff} "
                f"and their {result.deliveries} deliveries"
            )
            if result.dry_run:
                self.stdout.write(f"Would delete {what}; nothing changed (--dry-run).")
            else:
                self.stdout.write(f"Deleted {what}.")
