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
class IdleSessions:
    now: datetime
    cutoff: datetime  # idle: no message since this instant (inclusive)
    session_ids: list[int]


def idle_sessions(*, idle_for: timedelta, now: datetime | None = None) -> IdleSessions:
    """Open sessions with no message for ``idle_for`` (waiting ones too), least recently
    active first."""
    now = now or timezone.now()
    cutoff = now - idle_for
    ids = (
        ChatSession.objects.filter(status=ChatSession.Status.OPEN, last_message_at__lte=cutoff)
        .order_by("last_message_at", "id")
        .values_list("id", flat=True)
    )
    return IdleSessions(now=now, cutoff=cutoff, session_ids=list(ids))


def close_idle_sessions(
    *, idle: IdleSessions, on_progress: Callable[[int], None] | None = None
) -> list[int]:
    """Close the sessions ``idle_sessions()`` listed, one short transaction each; returns
    the ids of those it closed (a session that got a message meanwhile stays open)."""
    closed = []
    for done, session_id in enumerate(idle.session_ids, start=1):
        if close_idle_session(session_id=session_id, cutoff=idle.cutoff, now=idle.now):
            closed.append(session_id)
        if on_progress is not None:
            on_progress(done)
    return closed


def close_idle_session(*, session_id: int, cutoff: datetime, now: datetime) -> bool:
    """Close one session if it is still open and idle since ``cutoff``; True if closed.

    The session row is locked and re-checked first: a message that arrived since the list
    was made keeps its session open. Closing goes through the policy, which frees the
    staff member's capacity.
    """
    with transaction.atomic():
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .filter(pk=session_id, status=ChatSession.Status.OPEN, last_message_at__lte=cutoff)
            .first()
        )
        return session is not None and policy.session_close(session=session, now=now)
