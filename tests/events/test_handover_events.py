"""The platform hears of first come, first served and of every hand-over: the new session
that waits behind older ones, a reassignment of an unanswered session, a return at the end
of a shift. Both databases (on PostgreSQL the decision's function writes the outbox rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assignment import config, handover
from events.models import Event
from tests.factories import ChatSessionFactory, session_with_decision

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def events_of(session_id: int) -> list[tuple[str, dict]]:
    return [
        (event.type, event.data)
        for event in Event.objects.filter(session_id=session_id).order_by("happened_at", "id")
    ]


def test_a_new_session_behind_an_older_one_is_queued_and_the_older_one_assigned(cast):
    older = ChatSessionFactory(created_at=MONDAY_0900 - timedelta(minutes=20))  # while off
    config.auto_assign_set(enabled=True)

    new, _ = session_with_decision(created_at=MONDAY_0900)

    assert [kind for kind, _ in events_of(new.pk)] == ["session.queued"]
    [(kind, data)] = events_of(older.pk)
    assert kind == "session.assigned"
    assert data["assignment"]["kind"] == "queue"
    assert data["assignment"]["reason"] == "from the waiting queue; never assigned"
    assert data["session"]["assigned_to"]["name"] == "Alice"


def test_a_new_session_with_nobody_waiting_gets_only_its_assignment(cast, auto_assign_on):
    new, _ = session_with_decision(created_at=MONDAY_0900)

    assert [(kind, data["assignment"]["kind"]) for kind, data in events_of(new.pk)] == [
        ("session.assigned", "automatic")
    ]


def test_a_reassignment_names_who_did_not_answer(cast, auto_assign_on):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )
    session, _ = session_with_decision(created_at=MONDAY_0900)

    handover.hand_over_due(now=MONDAY_0900 + timedelta(minutes=10))

    kind, data = events_of(session.pk)[-1]
    assert kind == "session.assigned"
    assert data["session"]["assigned_to"]["name"] == "Bob"
    assert data["reassigned_from"]["name"] == "Alice"
    assert data["assignment"]["kind"] == "queue"
    assert data["assignment"]["reason"].startswith("reassigned: Alice did not answer for 10 min")


def test_a_session_returned_when_its_staff_member_is_away_is_reported(cast, auto_assign_on):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=None,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=True,
    )
    session, _ = session_with_decision(created_at=MONDAY_0900)
    cast["alice"].active = False
    cast["alice"].save()

    handover.hand_over_due(now=MONDAY_0900 + timedelta(minutes=1))

    returned = [data for kind, data in events_of(session.pk) if kind == "session.returned"]
    assert [data["returned_from"]["name"] for data in returned] == ["Alice"]
