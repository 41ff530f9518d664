"""Ingestion of one customer message: validate, deduplicate, join or open a session.

Opening a session runs the assignment policy through the ``post_save`` signal, in the same
transaction as the message, so a message is never stored without its session decided.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from assignment.models import ChatSession, Message
from staff.services import unstorable_text_problem

MAX_BODY_BYTES = 64 * 1024
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,32}$")
_ATTEMPTS = 3


class PayloadError(ValueError):
    """The body breaks a rule (answered with 400); ``details`` names each field."""

    def __init__(self, message: str, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class MessageConflict(Exception):
    """The message_id is stored already with different content (answered with 409)."""


@dataclass(frozen=True)
class IncomingMessage:
    message_id: str
    customer_id: str
    channel: str = "web"
    customer_name: str | None = None
    text: str = ""
    sent_at: datetime | None = None

    def digest(self) -> str:
        """Identifies the content after defaults; ``sent_at`` compared as an instant."""
        canonical = [
            self.message_id,
            self.customer_id,
            self.channel,
            self.customer_name,
            self.text,
            self.sent_at.astimezone(UTC).isoformat() if self.sent_at else None,
        ]
        return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    created: bool  # False: a repeat of a stored message, answered as the first time
    body: dict[str, Any]
    session_id: int
    outcome: str


# --- Parsing -------------------------------------------------------------------------------


def parse_payload(body: bytes) -> IncomingMessage:
    """The message in a webhook body; PayloadError says what is wrong with it."""
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise PayloadError("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise PayloadError("The body must be a JSON object.")
    errors: dict[str, str] = {}
    fields = {
        "message_id": _string(document, "message_id", errors, required=True, maximum=128),
        "customer_id": _string(document, "customer_id", errors, required=True, maximum=128),
        "channel": _string(document, "channel", errors, maximum=32),
        "customer_name": _string(document, "customer_name", errors, maximum=200, minimum=0),
        "text": _string(document, "text", errors, maximum=10_000, minimum=0),
    }
    if fields["channel"] is not None and not _CHANNEL.match(fields["channel"]):
        errors.setdefault("channel", "Use 1-32 characters of a-z, 0-9, _ and -.")
    sent_at = _instant(document, "sent_at", errors)
    if errors:
        raise PayloadError("Some fields break their rules.", errors)
    return IncomingMessage(
        message_id=fields["message_id"],
        customer_id=fields["customer_id"],
        channel=fields["channel"] or "web",
        customer_name=fields["customer_name"],
        text=fields["text"] or "",
        sent_at=sent_at,
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _string(
    document: dict,
    field: str,
    errors: dict[str, str],
    *,
    maximum: int,
    minimum: int = 1,
    required: bool = False,
) -> str | None:
    value = document.get(field)
    if value is None:
        if required:
            errors[field] = "This field is required."
        return None
    if not isinstance(value, str):
        errors[field] = "Must be a string."
    elif not minimum <= len(value) <= maximum:
        errors[field] = f"Must be {minimum}-{maximum} characters long."
    elif problem := unstorable_text_problem(value):
        errors[field] = problem.capitalize()
    else:
        return value
    return None


def _instant(document: dict, field: str, errors: dict[str, str]) -> datetime | None:
    raw = _string(document, field, errors, maximum=64)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        errors[field] = (
            "Must be an ISO 8601 date and time with an offset, e.g. 2026-01-31T09:00:00Z."
        )
        return None


# --- Ingestion -----------------------------------------------------------------------------


def ingest_message(*, incoming: IncomingMessage, now: datetime | None = None) -> IngestResult:
    """Store a message once; join the customer's open session or open (and assign) one.

    A concurrent delivery of the same message_id, or a concurrent first message of the
    same customer, makes our INSERT fail on a unique constraint; the transaction is then
    retried and sees the winner's rows (a repeat, or a session to join).
    """
    received_at = now or timezone.now()
    for attempt in range(_ATTEMPTS):
        try:
            return _ingest_once(incoming=incoming, received_at=received_at)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _ingest_once(*, incoming: IncomingMessage, received_at: datetime) -> IngestResult:
    digest = incoming.digest()
    with transaction.atomic():
        stored = (
            Message.objects.filter(message_id=incoming.message_id)
            .values("content_digest", "response", "session_id")
            .first()
        )
        if stored is not None:
            if stored["content_digest"] != digest:
                raise MessageConflict(
                    f"message_id {incoming.message_id!r} was stored with different content."
                )
            response = stored["response"]
            return IngestResult(False, response, stored["session_id"], "repeat")
        session, created = _open_session_for(incoming=incoming, received_at=received_at)
        outcome = session.assignment_outcome.status if created else "existing"
        body = response_body(incoming.message_id, session, created=created, assignment=outcome)
        Message.objects.create(
            message_id=incoming.message_id,
            session=session,
            customer_name=incoming.customer_name or "",
            text=incoming.text,
            sent_at=incoming.sent_at,
            received_at=received_at,
            content_digest=digest,
            response=body,
        )
    return IngestResult(True, body, session.pk, outcome)


def _open_session_for(
    *, incoming: IncomingMessage, received_at: datetime
) -> tuple[ChatSession, bool]:
    """The customer's open session (locked, to be joined) or a new one (assigned)."""
    session = (
        ChatSession.objects.select_for_update(of=("self",))
        .select_related("assigned_staff")
        .filter(
            channel=incoming.channel,
            customer_id=incoming.customer_id,
            status=ChatSession.Status.OPEN,
        )
        .first()
    )
    if session is not None:
        updates: dict[str, Any] = {"last_message_at": received_at}
        if incoming.customer_name and not session.customer_name:
            updates["customer_name"] = incoming.customer_name
        ChatSession.objects.filter(pk=session.pk).update(**updates)
        return session, False
    # Creating the session fires post_save, which runs the assignment policy.
    session = ChatSession.objects.create(
        channel=incoming.channel,
        customer_id=incoming.customer_id,
        customer_name=incoming.customer_name or "",
        created_at=received_at,
        last_message_at=received_at,
    )
    return session, True


def response_body(
    message_id: str, session: ChatSession, *, created: bool, assignment: str
) -> dict[str, Any]:
    staff = session.assigned_staff
    return {
        "message_id": message_id,
        "session": {
            "id": session.pk,
            "created": created,
            "status": session.status,
            "assignment": assignment,
            "assigned_to": (
                {"id": staff.pk, "name": staff.name, "email": staff.email} if staff else None
            ),
        },
    }
