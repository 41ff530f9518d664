"""Returning a staff member's open sessions to the waiting queue (``return_to_queue``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from assignment import policy
from assignment.models import AssignmentEvent, ChatSession
from events import outbox
from staff.models import Staff


class ReturnRefused(Exception):
    """The return was refused before changing anything; the message says why."""


def staff_by_email(email: str) -> Staff:
    member = Staff.objects.filter(email__iexact=email.strip()).first()
    if member is None:
        raise ReturnRefused(f"No staff member has the email address {email!r}.")
    return member


def return_to_queue(*, staff: Staff, force: bool = False, now: datetime | None = None) -> list[int]:
    """Put ``staff``'s open sessions back in the waiting queue; returns their ids.

    Refused (ReturnRefused, nothing changed) while the staff member is active, unless
    ``force``: an active staff member would get new sessions at once, so returning theirs
    is rarely what was meant. Each session is unassigned, the staff member's open count
    goes down, and an event of kind "returned" records it. The sessions keep their
    creation time, so they go to the front of the queue, and ``assign_waiting`` spreads
    them over the staff on duty.
    """
    with transaction.atomic():
        # The assignment lock: no decision about who is next runs while sessions move.
        policy.lock_assignment_settings()
        now = now or timezone.now()
        member = Staff.objects.get(pk=staff.pk)
        if member.active and not force:
            raise ReturnRefused(
                f"{member.name} <{member.email}> is not away. Mark them away first, or use "
                "--force to return their sessions anyway."
            )
        sessions = list(
            ChatSession.objects.select_for_update(of=("self",))
            .filter(assigned_staff=member, status=ChatSession.Status.OPEN)
            .order_by("created_at", "id")
        )
        reason = (
            f"returned to the waiting queue: {member.name} is away"
            if not member.active
            else f"returned to the waiting queue by an operator ({member.name} is not away)"
        )
        return return_sessions(member=member, sessions=sessions, reason=reason, now=now)


def return_sessions(
    *, member: Staff, sessions: list[ChatSession], reason: str, now: datetime
) -> list[int]:
    """Take ``sessions`` (open, ``member``'s, locked by the caller under the assignment
    lock) back from ``member`` into the waiting queue, recording ``reason``; their ids.

    Every return goes through here: ``return_to_queue`` and the queue worker's hand-overs
    (``assignment.handover``).
    """
    if not sessions:
        return []
    ids = [session.pk for session in sessions]
    ChatSession.objects.filter(pk__in=ids).update(assigned_staff=None, assigned_at=None)
    Staff.objects.filter(pk=member.pk).update(
        open_sessions=Greatest(F("open_sessions") - len(ids), Value(0))
    )
    AssignmentEvent.objects.bulk_create(
        AssignmentEvent(
            session=session,
            staff=member,
            kind=AssignmentEvent.Kind.RETURNED,
            reason=reason[:255],
            created_at=now,
        )
        for session in sessions
    )
    outbox.sessions_returned(session_ids=ids, returned_from=member, at=now)
    return ids
