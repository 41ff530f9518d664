"""The outbox row is written with the change: the PostgreSQL decision and the ORM form
write the same data, and the webhook's decision costs no statement more on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction

from assignment import config, policy
from assignment.models import ChatSession
from events.models import Event
from staff.models import Staff
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


def event_written_by(decide, *, session_id: int | None, kind: str) -> list[tuple[object, ...]]:
    """The outbox rows one form of the decision writes, then everything is rolled back."""
    try:
        with transaction.atomic():
            decide(session_id=session_id, at=MONDAY_0900, kind=kind)
            written = [
                (event.type, event.session_id, event.data, event.happened_at)
                for event in Event.objects.all()
            ]
            raise Rollback
    except Rollback:
        pass
    return written


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["automatic", "queue"])
@pytest.mark.parametrize("room", [True, False], ids=["assigned", "nobody has room"])
def test_both_forms_of_the_decision_write_the_same_event(cast, kind, room):
    config.auto_assign_set(enabled=False)
    session = ChatSessionFactory(created_at=MONDAY_0900)
    config.auto_assign_set(enabled=True)
    Staff.objects.filter(pk=cast["alice"].pk).update(
        last_assigned_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    )
    if not room:
        Staff.objects.update(active=False)
    session_id = session.pk if kind == "automatic" else None

    in_database = event_written_by(policy._decide_in_database, session_id=session_id, kind=kind)
    step_by_step = event_written_by(policy._decide_step_by_step, session_id=session_id, kind=kind)

    assert in_database == step_by_step
    if room:
        assert [each[0] for each in in_database] == ["session.assigned"]
    elif kind == "automatic":
        assert [each[0] for each in in_database] == ["session.queued"]
    else:  # a waiting session is already queued: nothing new to tell
        assert in_database == []


@pytest.mark.postgres
def test_a_waiting_session_nobody_can_take_writes_no_second_queued_event(cast):
    config.auto_assign_set(enabled=False)
    ChatSessionFactory(created_at=MONDAY_0900)
    config.auto_assign_set(enabled=True)
    Staff.objects.update(active=False)

    assert policy.assign_oldest_waiting(now=MONDAY_0900).outcome is policy.Outcome.QUEUED
    assert not Event.objects.exists()


def test_an_assignment_writes_its_event_in_the_same_transaction(cast, auto_assign_on):
    session = ChatSessionFactory(created_at=MONDAY_0900)

    event = Event.objects.get()
    assert (event.type, event.session_id) == ("session.assigned", session.pk)
    assert event.data["session"]["assigned_to"]["email"] == "alice@example.com"
    assert event.happened_at == ChatSession.objects.get(pk=session.pk).assigned_at
