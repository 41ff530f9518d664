import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assignment import policy


class Command(BaseCommand):
    help = (
        "List the staff who would be considered for a session created at an instant (default "
        "now), next in line first. Away staff and staff at capacity are not listed. --at sets "
        "only the instant for working hours; order and capacity come from the current data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            help="An ISO 8601 instant with an offset, e.g. 2026-03-29T01:30:00+01:00 or ...Z.",
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print a JSON list."
        )

    def handle(self, *args, at: str | None, as_json: bool, **options):
        instant = parse_instant(at) if at is not None else timezone.now()
        staff = policy.staff_on_duty(at=instant)
        if as_json:
            listed = [_staff_json(member) for member in staff]
            self.stdout.write(json.dumps(listed, indent=2, ensure_ascii=False))
            return
        if not staff:
            # Whole seconds for people (now has microseconds); --json keeps the contract's form.
            self.stdout.write(
                f"Nobody is on duty with room at {instant.isoformat(timespec='seconds')}."
            )
            return
        for position, member in enumerate(staff, start=1):
            last = (
                member.last_assigned_at.isoformat(timespec="seconds")
                if member.last_assigned_at
                else "never"
            )
            capacity = member.max_open_sessions or "∞"
            self.stdout.write(
                f"{position}. {member.name} <{member.email}> last assigned: {last}, "
                f"open sessions: {member.open_sessions}/{capacity}"
            )


def parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO 8601 date and time.") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CommandError(f"--at {text!r} needs an offset, e.g. Z or +08:00.")
    return value


def _staff_json(member) -> dict:
    last = member.last_assigned_at
    return {
        "id": member.pk,
        "name": member.name,
        "email": member.email,
        "last_assigned_at": last.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if last
        else None,
        "open_sessions": member.open_sessions,
    }
