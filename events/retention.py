"""Retention of the outbox (``purge_events``): events whose every delivery is finished are
deleted, with their deliveries, once they are older than the retention.

Finished: fanned out, and no delivery still pending (each was delivered or given up).
An event with a pending delivery is kept whatever its age, so an endpoint that is
re-activated after a ``410`` still gets it, in order. Events carry staff names and e-mail
addresses and the deliveries keep excerpts of the endpoints' answers: without a purge the
tables grow by one row per change and endpoint for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from events.models import Delivery, Event

MINIMUM_RETENTION = timedelta(days=1)  # the delivery log of today stays readable
BATCH_SIZE = 1000  # events per transaction: a purge never holds many row locks for long


@dataclass(frozen=True)
class EventPurge:
    cutoff: datetime  # deleted: finished events that happened before this instant
    events: int  # events deleted (or that would be)
    deliveries: int  # their deliveries, deleted with them
    dry_run: bool


def finished_events(cutoff: datetime):
    pending = Delivery.objects.filter(event_id=OuterRef("pk"), status=Delivery.Status.PENDING)
    return Event.objects.filter(happened_at__lt=cutoff, fanned_out=True).exclude(Exists(pending))


def purge_finished_events(
    *, older_than: timedelta, now: datetime | None = None, dry_run: bool = False
) -> EventPurge:
    """Delete finished events older than ``older_than`` with their deliveries (see the
    module); with ``dry_run`` only count. Running it again deletes nothing more."""
    if older_than < MINIMUM_RETENTION:
        raise ValueError("must be at least 1 day.")
    cutoff = (now or timezone.now()) - older_than
    if dry_run:
        return EventPurge(
            cutoff,
            finished_events(cutoff).count(),
            Delivery.objects.filter(event__in=finished_events(cutoff)).count(),
            dry_run=True,
        )
    events = deliveries = 0
    while True:
        with transaction.atomic():
            ids = list(
                finished_events(cutoff)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not ids:
                return EventPurge(cutoff, events, deliveries, dry_run=False)
            # Deliveries first, by one DELETE, then the events (no per-row cascade).
            deliveries += Delivery.objects.filter(event_id__in=ids).delete()[0]
            events += Event.objects.filter(pk__in=ids).delete()[0]
