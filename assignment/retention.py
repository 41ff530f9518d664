"""Retention of customers' personal data (``purge_messages``): after a while, a message's
text and the customer's name are erased; what the product needs to keep working stays.

Kept: every row, the message ids and their content digests (so a late redelivery is still
answered as a repeat, not stored again), times, sessions, staff and assignment events (so
the reports and counters are unchanged). Erased: ``Message.text`` and
``Message.customer_name`` of messages received before the cutoff, and
``ChatSession.customer_name`` of sessions closed before it (an open session keeps the name
its staff member is using). ``customer_id`` stays: it identifies the conversation to the
chat platform, and is the platform's id, not a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assignment.models import ChatSession, Message

# At least this long: a shorter retention would erase conversations still going on.
MINIMUM_RETENTION = timedelta(days=1)
BATCH_SIZE = 1000  # rows per transaction: a purge never holds many row locks for long


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime  # erased: received (messages) or closed (sessions) before this instant
    messages: int  # messages whose text or customer name was erased (or would be)
    sessions: int  # closed sessions whose customer name was erased (or would be)
    dry_run: bool


def _messages_to_purge(cutoff: datetime):
    return Message.objects.filter(received_at__lt=cutoff).exclude(text="", customer_name="")


def _sessions_to_purge(cutoff: datetime):
    return ChatSession.objects.filter(
        Q(status=ChatSession.Status.CLOSED) & Q(closed_at__lt=cutoff)
    ).exclude(customer_name="")


def purge_personal_data(
    *, older_than: timedelta, now: datetime | None = None, dry_run: bool = False
) -> PurgeResult:
    """Erase message text and customer names older than ``older_than`` (see the module);
    with ``dry_run`` only count. Running it again erases nothing more (counts are 0)."""
    if older_than < MINIMUM_RETENTION:
        raise ValueError("must be at least 1 day (open conversations need their text).")
    cutoff = (now or timezone.now()) - older_than
    if dry_run:
        return PurgeResult(
            cutoff,
            _messages_to_purge(cutoff).count(),
            _sessions_to_purge(cutoff).count(),
            dry_run=True,
        )
    messages = _in_batches(_messages_to_purge(cutoff), text="", customer_name="")
    sessions = _in_batches(_sessions_to_purge(cutoff), customer_name="")
    return PurgeResult(cutoff, messages, sessions, dry_run=False)


def _in_batches(rows, **erased: str) -> int:
    """UPDATE the rows ``BATCH_SIZE`` at a time, each batch its own transaction."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
            if not ids:
                return done
            done += rows.model.objects.filter(pk__in=ids).update(**erased)
