"""Closing idle sessions (``close_idle_sessions``): open sessions with no message for a while."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from assignment import policy
from assignment.models import ChatSession


@dataclass(frozen=True)
class ListedSession:
    """What the list saw of an idle session; closing it re-checks each field."""

    id: int
    last_message_at: datetime
    assigned_staff_id: int | None
    assigned_at: datetime | None


@dataclass(frozen=True)
class IdleSessions:
    now: datetime  # when the list was made
    cutoff: datetime  # idle: no message since this instant (inclusive)
    sessions: list[ListedSession]

    @property
    def session_ids(self) -> list[int]:
        return [session.id for session in self.sessions]


def idle_sessions(*, idle_for: timedelta, now: datetime | None = None) -> IdleSessions:
    """Open sessions with no message for ``idle_for`` (waiting ones too), least recently
    active first."""
    now = now or timezone.now()
    cutoff = now - idle_for
    rows = (
        ChatSession.objects.filter(status=ChatSession.Status.OPEN, last_message_at__lte=cutoff)
        .order_by("last_message_at", "id")
        .values_list("id", "last_message_at", "assigned_staff_id", "assigned_at")
    )
    return IdleSessions(now=now, cutoff=cutoff, sessions=[ListedSession(*row) for row in rows])


def close_idle_sessions(
    *,
    idle: IdleSessions,
    on_progress: Callable[[int], None] | None = None,
    clock: Callable[[], datetime] = timezone.now,
) -> list[int]:
    """Close the sessions ``idle_sessions()`` listed, one short transaction each, each
    stamped with the time of its own close (``clock()``); returns the ids of those it
    closed. A session assigned, reassigned, returned or written to since it was listed
    stays open: the list is old news by the time each session's turn comes."""
    closed = []
    for done, listed in enumerate(idle.sessions, start=1):
        if close_idle_session(listed=listed, now=clock()):
            closed.append(listed.id)
        if on_progress is not None:
            on_progress(done)
    return closed


def close_idle_session(*, listed: ListedSession, now: datetime) -> bool:
    """Close one listed session if, under its row lock, it is still open and exactly as
    listed (no message, no assignment since); True if closed, at ``now``.

    The lock makes a concurrent assignment or message wait for us or us for it; whichever
    commits first, the other sees its result. Closing goes through the policy, which frees
    the staff member's capacity.
    """
    with transaction.atomic():
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .filter(pk=listed.id, status=ChatSession.Status.OPEN)
            .first()
        )
        if session is None or not _unchanged_since_listed(session, listed):
            return False
        return policy.session_close(session=session, now=now)


def _unchanged_since_listed(session: ChatSession, listed: ListedSession) -> bool:
    return (
        session.last_message_at == listed.last_message_at
        and session.assigned_staff_id == listed.assigned_staff_id
        and session.assigned_at == listed.assigned_at
    )
