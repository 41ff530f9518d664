import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from assignment import retention
from assignment.durations import parse_duration


class Command(BaseCommand):
    help = (
        "Erase customers' personal data older than --older-than (e.g. 90d): the text and "
        "customer name of messages received before then, and the customer name of "
        "sessions closed before then. Message ids, times, sessions and assignments are "
        "kept (reports and redeliveries are unchanged). --dry-run only counts. Exit "
        "status: 0 done, 1 error (a bad --older-than, the database is unavailable), 2 bad "
        "usage on the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            required=True,
            metavar="DURATION",
            help="Retention, at least 1d: e.g. 90d, 30d, 2160h.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be erased; change nothing."
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='Print {"cutoff", "dry_run", "messages", "sessions"}.',
        )

    def handle(self, *args, older_than: str, dry_run: bool, as_json: bool, **options):
        try:
            retention_period = parse_duration(older_than)
            result = retention.purge_personal_data(older_than=retention_period, dry_run=dry_run)
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
                        "messages": result.messages,
                        "sessions": result.sessions,
                    }
                )
            )
        elif options["verbosity"] >= 1:
            self.stdout.write(_describe(result, cutoff))


def _describe(result: retention.PurgeResult, cutoff: str) -> str:
    what = (
        f"the text and customer name of {result.messages} messages received before {cutoff}, "
        f"and the customer name of {result.sessions} sessions closed before then"
    )
    if result.dry_run:
        return f"Would erase {what}; nothing changed (--dry-run)."
    return f"Erased {what}. Message ids, times, sessions and assignments are kept."
