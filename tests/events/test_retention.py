"""purge_events: finished outbound events older than the retention are deleted with their
deliveries; anything still to be sent stays."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events import delivery
from events.models import Delivery, Event
from tests.events.conftest import Answer
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def purge(*args: str) -> dict:
    out = io.StringIO()
    call_command("purge_events", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def event_of(session) -> Event:
    return Event.objects.get(session=session)


@pytest.fixture
def outbox(receiver, endpoint, auto_assign_on, settings):
    """Old events delivered, given up and still pending; a recent delivered one; an old one
    not yet fanned out. Returns them by name."""
    settings.EVENTS_DELIVERY_CONCURRENCY = 1  # one after the other: the answers go in order
    receiver.answer(Answer(status=200), Answer(status=200), Answer(status=500))
    delivered, given_up, pending = (ChatSessionFactory() for _ in range(3))
    delivery.deliver_all_due()
    Delivery.objects.filter(event__session=given_up).update(status=Delivery.Status.FAILED)
    recent = ChatSessionFactory()
    delivery.deliver_all_due()
    not_fanned_out = ChatSessionFactory()
    long_ago = timezone.now() - timedelta(days=40)
    old = [delivered, given_up, pending, not_fanned_out]
    Event.objects.filter(session__in=old).update(happened_at=long_ago)
    return {
        name: event_of(session).pk
        for name, session in {
            "delivered": delivered,
            "given_up": given_up,
            "pending": pending,
            "recent": recent,
            "not_fanned_out": not_fanned_out,
        }.items()
    }


def test_finished_old_events_go_with_their_deliveries_and_the_rest_stays(outbox):
    assert Delivery.objects.get(event_id=outbox["pending"]).status == Delivery.Status.PENDING

    done = purge("--older-than", "30d")

    assert (done["events"], done["deliveries"], done["dry_run"]) == (2, 2, False)
    left = set(Event.objects.values_list("pk", flat=True))
    assert left == {outbox["pending"], outbox["recent"], outbox["not_fanned_out"]}
    assert not Delivery.objects.filter(event_id__in=[outbox["delivered"], outbox["given_up"]])
    assert Delivery.objects.filter(event_id=outbox["pending"]).exists()
    assert purge("--older-than", "30d")["events"] == 0  # again: nothing more


def test_the_pending_event_kept_is_still_delivered(outbox, receiver):
    purge("--older-than", "30d")

    done = delivery.deliver_all_due(clock=lambda: timezone.now() + timedelta(hours=1))

    assert done.delivered == 2  # the one that was pending, and the one not fanned out
    assert not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()


def test_a_dry_run_counts_and_changes_nothing(outbox):
    before = list(Event.objects.values_list("pk", flat=True))

    counted = purge("--older-than", "30d", "--dry-run")

    assert (counted["events"], counted["deliveries"], counted["dry_run"]) == (2, 2, True)
    assert list(Event.objects.values_list("pk", flat=True)) == before


def test_a_longer_retention_keeps_them(outbox):
    assert purge("--older-than", "41d")["events"] == 0
    assert Event.objects.count() == 5


@pytest.mark.parametrize("retention", ["12h", "0d", "soon", "-3d"])
def test_a_retention_under_a_day_or_not_a_duration_is_refused(outbox, retention):
    with pytest.raises(CommandError, match="--older-than"):
        purge("--older-than", retention)
    assert Event.objects.count() == 5


def test_without_json_it_says_what_it_did(outbox):
    out = io.StringIO()
    call_command("purge_events", "--older-than", "30d", stdout=out)
    assert out.getvalue().startswith("Deleted 2 finished events from before ")
