import json
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from assignment import idle_sessions, policy
from assignment.durations import parse_duration
from assignment.progress import TerminalProgress


class Command(BaseCommand):
    help = (
        "Close open sessions that have had no customer message for --idle-for (30m, 24h, "
        "2d, 1d12h), waiting ones included, and free their staff members' capacity. A "
        "message that arrives meanwhile keeps its session open. --dry-run only counts. "
        "Prints how many it closed; --json prints the ids too. Exit status: 0 done (also "
        "when nothing was idle), 1 error (a bad --idle-for, the database is unavailable), "
        "2 bad usage on the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--idle-for",
            required=True,
            metavar="DURATION",
            help="How long without a message makes a session idle, e.g. 30m, 24h, 2d.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be closed; change nothing."
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='Print {"idle_for_seconds", "cutoff", "dry_run", "closed", "session_ids"}.',
        )

    def handle(self, *args, idle_for: str, dry_run: bool, as_json: bool, **options):
        try:
            duration = parse_duration(idle_for)
        except ValueError as error:
            raise CommandError(f"--idle-for: {error}") from None
        try:
            idle = idle_sessions.idle_sessions(idle_for=duration)
            closed = idle.session_ids if dry_run else self._close(idle)
        except DatabaseError as error:
            raise CommandError(f"The database is unavailable: {error}".strip()) from None
        if as_json:
            self.stdout.write(_dumps(duration, idle.cutoff, dry_run, closed))
        elif options["verbosity"] >= 1:
            self.stdout.write(_describe(duration, idle.cutoff, dry_run, len(closed)))

    def _close(self, idle: idle_sessions.IdleSessions) -> list[int]:
        total = len(idle.session_ids)
        progress = TerminalProgress(self.stderr, label="Closing idle sessions", total=total)
        closed = idle_sessions.close_idle_sessions(idle=idle, on_progress=progress)
        progress.finish(total)
        return closed


def _utc(moment: datetime, timespec: str = "auto") -> str:
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _describe(duration: timedelta, cutoff: datetime, dry_run: bool, count: int) -> str:
    since = _utc(cutoff, "seconds")
    idle = f"no message for {policy.describe_duration(duration)}, since {since}"
    if dry_run:
        return f"Would close {count} idle sessions ({idle}); nothing changed (--dry-run)."
    return f"Closed {count} idle sessions ({idle})."


def _dumps(duration: timedelta, cutoff: datetime, dry_run: bool, session_ids: list[int]) -> str:
    return json.dumps(
        {
            "idle_for_seconds": int(duration.total_seconds()),
            "cutoff": _utc(cutoff),
            "dry_run": dry_run,
            "closed": len(session_ids),
            "session_ids": session_ids,
        }
    )
