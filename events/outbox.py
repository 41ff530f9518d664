"""The outbox's public API: record an event in the caller's transaction.

Call these inside the transaction that makes the change (the assignment lock held where
there is one): the row commits or rolls back with it, and ``deliver_events`` sends it
later. Each is one INSERT and reads nothing. The PostgreSQL decision
(``chatassist_assign_next`` in assignment/sql/assign_next.sql) writes the same rows as
``session_assigned`` and ``session_queued`` from inside the database;
tests/events/test_outbox.py pins the two forms together.

What is stored is the event's ``data`` without the session's channel and customer id
(they never change; ``events.payloads`` joins them when the body is built).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from events.models import Event, EventType


class StaffFields(Protocol):
    """A staff member as the events name them (a ``Staff`` row or the policy's snapshot)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...


def new_webhook_id() -> str:
    return "evt_" + uuid.uuid4().hex


def staff_json(staff: StaffFields | None) -> dict[str, Any] | None:
    if staff is None:
        return None
    return {"id": staff.id, "name": staff.name, "email": staff.email}


def session_assigned(
    *,
    session_id: int,
    staff: StaffFields,
    kind: str,
    reason: str,
    candidates: int | None,
    by: str | None,
    at: datetime,
    reassigned_from: StaffFields | None = None,
) -> Event:
    """``session.assigned``: kind "automatic", "queue" or "manual" (``by``: a username).

    A session the queue worker took from someone who did not answer is kind "queue" (the
    contract's three kinds stay three) with ``data.reassigned_from`` naming that person.
    """
    data: dict[str, Any] = {
        "session": {"status": "open", "assigned_to": staff_json(staff)},
        "assignment": {"kind": kind, "reason": reason, "candidates": candidates, "by": by},
    }
    if reassigned_from is not None:
        data["reassigned_from"] = staff_json(reassigned_from)
    return _record(EventType.SESSION_ASSIGNED, session_id=session_id, data=data, at=at)


def session_queued(*, session_id: int, at: datetime) -> Event:
    """``session.queued``: a new session waits (automatic assignment on, nobody has room)."""
    data = {"session": {"status": "open", "assigned_to": None}}
    return _record(EventType.SESSION_QUEUED, session_id=session_id, data=data, at=at)


def session_returned(*, session_id: int, returned_from: StaffFields, at: datetime) -> Event:
    """``session.returned``: an assigned session went back to the waiting queue."""
    return sessions_returned(session_ids=[session_id], returned_from=returned_from, at=at)[0]


def sessions_returned(
    *, session_ids: Iterable[int], returned_from: StaffFields, at: datetime
) -> list[Event]:
    """``session.returned`` for several sessions taken from one staff member: one INSERT."""
    data = {
        "session": {"status": "open", "assigned_to": None},
        "returned_from": staff_json(returned_from),
    }
    return Event.objects.bulk_create(
        _event(EventType.SESSION_RETURNED, session_id=session_id, data=data, at=at)
        for session_id in session_ids
    )


def session_closed(*, session_id: int, assigned_to: StaffFields | None, at: datetime) -> Event:
    """``session.closed``; ``assigned_to`` is who had it when it closed (None: nobody)."""
    data = {"session": {"status": "closed", "assigned_to": staff_json(assigned_to)}}
    return _record(EventType.SESSION_CLOSED, session_id=session_id, data=data, at=at)


def ping(*, endpoint_id: int, at: datetime) -> Event:
    """A test event for one endpoint (``data`` is ``{}``)."""
    event = _event(EventType.PING, session_id=None, data={}, at=at)
    event.endpoint_id = endpoint_id
    event.save()
    return event


def _record(
    event_type: EventType, *, session_id: int | None, data: dict[str, Any], at: datetime
) -> Event:
    event = _event(event_type, session_id=session_id, data=data, at=at)
    event.save(force_insert=True)
    return event


def _event(
    event_type: EventType, *, session_id: int | None, data: dict[str, Any], at: datetime
) -> Event:
    return Event(
        webhook_id=new_webhook_id(),
        type=event_type,
        session_id=session_id,
        data=data,
        happened_at=at,
    )
