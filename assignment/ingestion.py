"""Ingestion of one customer message: validate, deduplicate, join or open a session.

Opening a session runs the assignment policy through the ``post_save`` signal, in the same
transaction as the message, so a message is never stored without its session decided.

Every delivery is one look-up, then (unless it is a repeat) one transaction: one statement
to join the open session or the INSERT of a new one (``save()``, whose ``post_save`` runs
the policy; the policy's decision comes back through ``assignment.decisions``), and one
INSERT of the message. The look-up, the join and the message INSERT are written in SQL:
building them with the ORM costs more than running them (docs/BENCHMARKS.md); the message
row sends no model signals (nothing listens).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assignment import decisions
from assignment.models import ChatSession, Message
from assignment.policy import AssignedStaff, Decision, Outcome
from staff.models import Staff
from staff.services import unstorable_text_problem

MAX_BODY_BYTES = 64 * 1024
_CHANNEL = re.compile(r"[a-z0-9_-]{1,32}")
_ATTEMPTS = 3


class PayloadError(ValueError):
    """The body breaks a rule (answered with 400); ``details`` names each field."""

    def __init__(self, message: str, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class MessageConflict(Exception):
    """The message_id is stored already with different content (answered with 409)."""


class StaffMessageRefused(Exception):
    """A staff message that cannot be stored (answered with 409): no such staff member, or
    the customer has no open session. ``details`` names the field."""

    def __init__(self, message: str, details: dict[str, str]) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class IncomingMessage:
    message_id: str
    customer_id: str
    channel: str = "web"
    customer_name: str | None = None
    text: str = ""
    sent_at: datetime | None = None
    author: str = Message.Author.CUSTOMER
    staff_email: str | None = None  # required for (and only for) a staff message

    @property
    def from_staff(self) -> bool:
        return self.author == Message.Author.STAFF

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
        if self.from_staff:
            # Only staff messages add these, so customer messages stored before staff
            # messages existed keep their digest. Email addresses compare case-insensitively.
            canonical += [self.author, (self.staff_email or "").lower()]
        return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


# The webhook's public ``assignment`` word for each outcome of a new session's decision.
# "manual" is the contract's word for "automatic assignment is off: a manager assigns it".
WEBHOOK_ASSIGNMENT = {
    Outcome.ASSIGNED: "assigned",
    Outcome.QUEUED: "queued",
    Outcome.AUTO_ASSIGN_OFF: "manual",
}
JOINED = "existing"  # the message joined an open session
REPEAT = "repeat"  # a repeat of a stored message (for the log; the body is the first one's)


@dataclass(frozen=True)
class IngestResult:
    created: bool  # False: a repeat of a stored message, answered as the first time
    body: dict[str, Any]
    session_id: int
    outcome: str  # a WEBHOOK_ASSIGNMENT word, JOINED or REPEAT


# --- Parsing -------------------------------------------------------------------------------


def parse_payload(body: bytes) -> IncomingMessage:
    """The message in a webhook body; PayloadError says what is wrong with it."""
    document = _json_document(body)
    if not isinstance(document, dict):
        raise PayloadError("The body must be a JSON object.")
    errors: dict[str, str] = {}
    message_id = _string(document, "message_id", errors, required=True, maximum=128)
    customer_id = _string(document, "customer_id", errors, required=True, maximum=128)
    channel = _string(document, "channel", errors, maximum=32)
    customer_name = _string(document, "customer_name", errors, maximum=200, minimum=0)
    text = _string(document, "text", errors, maximum=10_000, minimum=0)
    if channel is not None and not _CHANNEL.fullmatch(channel):
        errors.setdefault("channel", "Use 1-32 characters of a-z, 0-9, _ and -.")
    sent_at = _instant(document, "sent_at", errors)
    author, staff_email = _author(document, errors)
    # A required field that is missing is in ``errors`` already; the None tests say so to mypy.
    if errors or message_id is None or customer_id is None:
        raise PayloadError("Some fields break their rules.", errors)
    return IncomingMessage(
        message_id=message_id,
        customer_id=customer_id,
        channel=channel or "web",
        customer_name=customer_name,
        text=text or "",
        sent_at=sent_at,
        author=author,
        staff_email=staff_email,
    )


def _author(document: dict, errors: dict[str, str]) -> tuple[str, str | None]:
    """``author`` ("customer" by default, or "staff") and, for staff, ``staff_email``."""
    author = _string(document, "author", errors, maximum=16) or Message.Author.CUSTOMER
    if "author" not in errors and author not in Message.Author.values:
        errors["author"] = 'Must be "customer" or "staff".'
    staff_email = _string(document, "staff_email", errors, maximum=254)
    if author == Message.Author.STAFF:
        if staff_email is None and "staff_email" not in errors:
            errors["staff_email"] = 'This field is required when author is "staff".'
        elif staff_email is not None and not _is_email(staff_email):
            errors["staff_email"] = "Must be an email address."
    elif staff_email is not None:
        errors["staff_email"] = 'Only a staff message (author "staff") names a staff member.'
    return author, staff_email.strip() if staff_email else None


def _is_email(value: str) -> bool:
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return True


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# The earliest and the latest sent_at taken: a year-1 or year-9999 date is a sender's bug,
# and near those ends converting an offset to UTC overflows.
SENT_AT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
SENT_AT_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _json_document(body: bytes) -> Any:
    """The JSON value of a body in UTF-8 (RFC 8259: the encoding of JSON between systems),
    without a byte order mark and with no key twice in an object. Python's json would also
    take UTF-16 and UTF-32 and a BOM, and let the last of duplicate keys win: a sender and
    we could then read different messages from the same signed bytes."""
    if body.startswith(b"\xef\xbb\xbf"):
        raise PayloadError("The body must be UTF-8 JSON without a byte order mark.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("The body must be UTF-8 JSON (not UTF-16 or UTF-32).") from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicate_keys,
        )
    except _DuplicateKey as duplicate:
        raise PayloadError(
            f"The body has the key {duplicate.key!r} twice in one object.",
            {duplicate.key: "Appears more than once."},
        ) from None
    except (ValueError, RecursionError):
        raise PayloadError("The body is not valid JSON.") from None


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
        offset = value.utcoffset()
        # ISO 8601 offsets are hours and minutes; Python would also take seconds (+05:30:15).
        if offset is None or offset % timedelta(minutes=1):
            raise ValueError
    except ValueError:
        errors[field] = (
            "Must be an ISO 8601 date and time with an offset, e.g. 2026-01-31T09:00:00Z."
        )
        return None
    try:
        instant = value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        instant = None
    if instant is None or not SENT_AT_EARLIEST <= instant < SENT_AT_LATEST:
        errors[field] = "Must be between 2000-01-01 and 2100-01-01."
        return None
    return instant


# --- Ingestion -----------------------------------------------------------------------------


def ingest_message(*, incoming: IncomingMessage, now: datetime | None = None) -> IngestResult:
    """Store a message once; join the customer's open session or open (and assign) one.

    One read first, outside any transaction, tells a repeat (answered without writing, so
    without a transaction) and whether the customer has an open session (so a new customer
    goes straight to creating one). What it saw may change before the transaction writes:
    a concurrent delivery of the same message_id, or a concurrent first message of the same
    customer, makes our INSERT fail on a unique constraint; the transaction is then rolled
    back and the whole is tried again, and sees the winner's rows (a repeat, or a session to
    join). A session closed meanwhile is not joined: a new one is opened.
    """
    received_at = now or timezone.now()
    digest = incoming.digest()
    for attempt in range(_ATTEMPTS):
        stored, open_session_id = _look_up(incoming)
        if stored is not None:
            return _repeat(incoming=incoming, digest=digest, stored=stored)
        try:
            if incoming.from_staff:
                return _ingest_staff_message(
                    incoming=incoming, digest=digest, received_at=received_at
                )
            return _ingest_new(
                incoming=incoming,
                digest=digest,
                received_at=received_at,
                may_join=open_session_id is not None,
            )
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# The message, if stored already, and the customer's open session, if any: one round trip.
_LOOK_UP = f"""
    SELECT 'message', content_digest, response, session_id FROM {Message._meta.db_table}
    WHERE message_id = %s
    UNION ALL
    SELECT 'session', NULL, NULL, id FROM {ChatSession._meta.db_table}
    WHERE channel = %s AND customer_id = %s AND status = %s
"""


def _look_up(incoming: IncomingMessage) -> tuple[tuple[str, str, int] | None, int | None]:
    """((digest, stored answer, session id) of the stored message or None, open session id
    or None)."""
    params = [
        incoming.message_id,
        incoming.channel,
        incoming.customer_id,
        ChatSession.Status.OPEN.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_LOOK_UP, params)
        rows = cursor.fetchall()
    stored = next((tuple(row[1:]) for row in rows if row[0] == "message"), None)
    session_id = next((row[3] for row in rows if row[0] == "session"), None)
    return stored, session_id


def _repeat(
    *, incoming: IncomingMessage, digest: str, stored: tuple[str, str, int]
) -> IngestResult:
    content_digest, response, session_id = stored
    if content_digest != digest:
        raise MessageConflict(
            f"message_id {incoming.message_id!r} was stored with different content."
        )
    return IngestResult(False, json.loads(response), session_id, REPEAT)


def _ingest_new(
    *, incoming: IncomingMessage, digest: str, received_at: datetime, may_join: bool
) -> IngestResult:
    with transaction.atomic():
        joined = (
            _join_open_session(incoming=incoming, received_at=received_at) if may_join else None
        )
        if joined is not None:
            session_id, status, staff = joined
            outcome = JOINED
            body = _body(incoming.message_id, session_id, status, staff, False, outcome)
        else:
            decision = _open_session(incoming=incoming, received_at=received_at)
            # The decision about the session just created: for_session() returns only those.
            assert decision.session_id is not None
            session_id = decision.session_id
            outcome = WEBHOOK_ASSIGNMENT[decision.outcome]
            body = _body(
                incoming.message_id,
                session_id,
                ChatSession.Status.OPEN,
                decision.assigned_to,
                True,
                outcome,
            )
        _insert_message(
            incoming=incoming,
            session_id=session_id,
            digest=digest,
            received_at=received_at,
            body=body,
        )
    return IngestResult(True, body, session_id, outcome)


def _open_session(*, incoming: IncomingMessage, received_at: datetime) -> Decision:
    """Create the customer's session; its ``post_save`` runs the policy, which decides it
    at ``received_at`` in this transaction."""
    session = ChatSession(
        channel=incoming.channel,
        customer_id=incoming.customer_id,
        customer_name=incoming.customer_name or "",
        created_at=received_at,
        last_message_at=received_at,
    )
    with decisions.collect() as made:
        session.save(force_insert=True)
    return made.for_session(session.pk)


# Joining an open session: one UPDATE finds it, locks it (as SELECT ... FOR UPDATE would,
# so a concurrent close or join waits), touches it and returns what the answer names.
_JOIN_OPEN_SESSION = f"""
    UPDATE {ChatSession._meta.db_table}
    SET last_message_at = %s,
        customer_name = CASE WHEN customer_name = '' THEN %s ELSE customer_name END
    WHERE channel = %s AND customer_id = %s AND status = %s
    RETURNING id, status, assigned_staff_id,
        (SELECT name FROM {Staff._meta.db_table} WHERE id = assigned_staff_id),
        (SELECT email FROM {Staff._meta.db_table} WHERE id = assigned_staff_id)
"""


def _join_open_session(
    *, incoming: IncomingMessage, received_at: datetime
) -> tuple[int, str, AssignedStaff | None] | None:
    """The customer's open session, touched: (id, status, its staff member or None); None
    if the customer has no open session."""
    params = [
        connection.ops.adapt_datetimefield_value(received_at),
        incoming.customer_name or "",
        incoming.channel,
        incoming.customer_id,
        ChatSession.Status.OPEN.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_JOIN_OPEN_SESSION, params)
        row = cursor.fetchone()
    if row is None:
        return None
    session_id, status, staff_id, name, email = row
    return session_id, status, AssignedStaff(staff_id, name, email) if staff_id else None


_INSERT_MESSAGE = f"""
    INSERT INTO {Message._meta.db_table}
        (message_id, session_id, customer_name, text, sent_at, received_at, content_digest,
         response, author, staff_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_RESPONSE_FIELD = Message._meta.get_field("response")


def _insert_message(
    *,
    incoming: IncomingMessage,
    session_id: int,
    digest: str,
    received_at: datetime,
    body: dict[str, Any],
    staff_id: int | None = None,
) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        incoming.message_id,
        session_id,
        incoming.customer_name or "",
        incoming.text,
        adapt(incoming.sent_at),
        adapt(received_at),
        digest,
        _RESPONSE_FIELD.get_db_prep_save(body, connection),
        incoming.author,
        staff_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MESSAGE, params)


def _body(
    message_id: str,
    session_id: int,
    status: str,
    staff: AssignedStaff | None,
    created: bool,
    assignment: str,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "session": {
            "id": session_id,
            "created": created,
            "status": status,
            "assignment": assignment,
            "assigned_to": (
                {"id": staff.id, "name": staff.name, "email": staff.email} if staff else None
            ),
        },
    }


# --- Staff messages --------------------------------------------------------------------------
#
# A staff message joins the customer's open session and never creates one, so it never runs
# the assignment policy and never counts as an assignment. Its receipt time (not the
# sender's ``sent_at``, which another host's clock wrote) is the session's latest staff
# message and, the first time, its first response: the same clock as the session's
# ``created_at`` and ``assigned_at``, so response times and "unanswered for N minutes"
# compare instants of one clock.

_JOIN_AS_STAFF = f"""
    UPDATE {ChatSession._meta.db_table}
    SET last_message_at = %s,
        last_staff_message_at = %s,
        first_response_staff_id = CASE WHEN first_response_at IS NULL THEN %s
            ELSE first_response_staff_id END,
        first_response_at = COALESCE(first_response_at, %s)
    WHERE channel = %s AND customer_id = %s AND status = %s
    RETURNING id, status, assigned_staff_id,
        (SELECT name FROM {Staff._meta.db_table} WHERE id = assigned_staff_id),
        (SELECT email FROM {Staff._meta.db_table} WHERE id = assigned_staff_id)
"""


def _ingest_staff_message(
    *, incoming: IncomingMessage, digest: str, received_at: datetime
) -> IngestResult:
    """Store a staff message on the customer's open session (StaffMessageRefused if there
    is no such staff member or no open session; nothing is written then).

    The UPDATE locks the session row, as the queue worker does before it reassigns or
    returns an unanswered session: whichever is first, the other sees its outcome.
    """
    assert incoming.staff_email is not None  # parse_payload requires it for staff
    author = Staff.objects.filter(email__iexact=incoming.staff_email).values_list("id").first()
    if author is None:
        raise StaffMessageRefused(
            f"No staff member has the email address {incoming.staff_email!r}.",
            {"staff_email": "Unknown staff member."},
        )
    staff_id = author[0]
    with transaction.atomic():
        joined = _join_as_staff(incoming=incoming, staff_id=staff_id, received_at=received_at)
        if joined is None:
            raise StaffMessageRefused(
                f"Customer {incoming.customer_id!r} on channel {incoming.channel!r} has no "
                "open session for a staff message to join.",
                {"customer_id": "No open session."},
            )
        session_id, status, assigned = joined
        body = _body(incoming.message_id, session_id, status, assigned, False, JOINED)
        _insert_message(
            incoming=incoming,
            session_id=session_id,
            digest=digest,
            received_at=received_at,
            body=body,
            staff_id=staff_id,
        )
    return IngestResult(True, body, session_id, JOINED)


def _join_as_staff(
    *, incoming: IncomingMessage, staff_id: int, received_at: datetime
) -> tuple[int, str, AssignedStaff | None] | None:
    at = connection.ops.adapt_datetimefield_value(received_at)
    params = [
        at,
        at,
        staff_id,
        at,
        incoming.channel,
        incoming.customer_id,
        ChatSession.Status.OPEN.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_JOIN_AS_STAFF, params)
        row = cursor.fetchone()
    if row is None:
        return None
    session_id, status, assigned_id, name, email = row
    return session_id, status, AssignedStaff(assigned_id, name, email) if assigned_id else None
