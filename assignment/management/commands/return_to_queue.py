import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from assignment import policy, returns
from staff.models import Staff


class Command(BaseCommand):
    help = (
        "Put the open sessions of a staff member who is away back in the waiting queue "
        "(each recorded as a 'returned' assignment event), so assign_waiting spreads them "
        "over the staff on duty, oldest first. Refused, with nothing changed, for an "
        "unknown email or a staff member who is not away (unless --force). Exit status: 0 "
        "done (also when there was nothing to return), 1 refused or error, 2 bad usage on "
        "the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--staff", required=True, metavar="EMAIL", help="The staff member's email address."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also when the staff member is not marked away.",
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='Print {"staff": {"id", "name", "email", "active"}, "returned", "session_ids"}.',
        )

    def handle(self, *args, staff: str, force: bool, as_json: bool, **options):
        try:
            member = returns.staff_by_email(staff)
            session_ids = returns.return_to_queue(staff=member, force=force)
        except returns.ReturnRefused as error:
            raise CommandError(f"Nothing returned. {error}") from None
        except DatabaseError as error:
            raise CommandError(f"The database is unavailable: {error}".strip()) from None
        if as_json:
            self.stdout.write(_dumps(member, session_ids))
        elif options["verbosity"] >= 1:
            self.stdout.write(_describe(member, session_ids))


def _describe(member: Staff, session_ids: list[int]) -> str:
    if not session_ids:
        return f"{member.name} <{member.email}> has no open sessions: nothing returned."
    listed = ", ".join(f"#{session_id}" for session_id in session_ids)
    then = (
        "assign_waiting (or its worker) will assign them."
        if policy.auto_assign_enabled()
        else "automatic assignment is off: a manager assigns them."
    )
    return (
        f"Returned {len(session_ids)} open sessions of {member.name} <{member.email}> to the "
        f"waiting queue ({listed}); {then}"
    )


def _dumps(member: Staff, session_ids: list[int]) -> str:
    staff = {"id": member.pk, "name": member.name, "email": member.email, "active": member.active}
    return json.dumps(
        {"staff": staff, "returned": len(session_ids), "session_ids": session_ids},
        ensure_ascii=False,
    )
