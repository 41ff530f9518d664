"""First come, first served: while older sessions wait, a new session does not jump the queue.

Both forms of the decision (the database function on PostgreSQL, the ORM steps everywhere)
are checked: the new session's decision goes to the oldest waiting session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from assignment import config, decisions, policy
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from staff.models import Staff
from tests.factories import ChatSessionFactory, session_with_decision

pytestmark = pytest.mark.django_db

MONDAY_0900_UTC = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def waiting_since(minutes_ago: int) -> ChatSession:
    """A session created while automatic assignment was off: it waits in the queue."""
    return ChatSessionFactory(created_at=MONDAY_0900_UTC - timedelta(minutes=minutes_ago))


def assignee(session: ChatSession) -> str | None:
    session.refresh_from_db()
    return session.assigned_staff.name if session.assigned_staff else None


@pytest.fixture
def two_waiting(cast) -> list[ChatSession]:
    sessions = [waiting_since(30), waiting_since(10)]
    config.auto_assign_set(enabled=True)
    return sessions


def test_a_new_session_waits_behind_older_ones_and_the_oldest_is_served(two_waiting):
    oldest, second = two_waiting

    new, decision = session_with_decision(created_at=MONDAY_0900_UTC)

    assert decision.outcome is policy.Outcome.QUEUED
    assert decision.session_id == new.pk
    served = decision.oldest_served
    assert served is not None and served.assigned_to is not None
    assert (served.session_id, served.assigned_to.name) == (oldest.pk, "Alice")
    assert served.reason == policy.QUEUE_REASON_PREFIX + "never assigned"
    assert (assignee(oldest), assignee(second), assignee(new)) == ("Alice", None, None)
    event = AssignmentEvent.objects.get()
    assert (event.session_id, event.kind) == (oldest.pk, AssignmentEvent.Kind.QUEUE)


def test_the_queue_then_serves_the_rest_in_order(two_waiting):
    oldest, second = two_waiting
    new, _ = session_with_decision(created_at=MONDAY_0900_UTC)

    while policy.assign_oldest_waiting(now=MONDAY_0900_UTC + timedelta(minutes=1)).assigned:
        pass

    assert [assignee(session) for session in (oldest, second, new)] == ["Alice", "Bob", "Carol"]


def test_with_nobody_waiting_a_new_session_is_assigned_at_once(cast, auto_assign_on):
    new, decision = session_with_decision(created_at=MONDAY_0900_UTC)

    assert decision.outcome is policy.Outcome.ASSIGNED
    assert decision.oldest_served is None
    assert assignee(new) == "Alice"


def test_with_nobody_on_duty_with_room_the_waiting_stay_and_the_new_one_queues(two_waiting):
    Staff.objects.update(active=False)
    oldest, second = two_waiting

    new, decision = session_with_decision(created_at=MONDAY_0900_UTC)

    assert decision.outcome is policy.Outcome.QUEUED
    assert decision.session_id == new.pk
    assert decision.oldest_served is None
    assert not AssignmentEvent.objects.exists()
    assert [assignee(session) for session in (oldest, second, new)] == [None, None, None]


def test_the_webhook_answers_queued_for_the_new_customer(post_message, two_waiting):
    oldest, _ = two_waiting
    with time_machine.travel(MONDAY_0900_UTC, tick=False):
        response = post_message({"message_id": "m-1", "customer_id": "new"})

    assert response.status_code == 201
    assert response.json()["session"]["assignment"] == "queued"
    assert response.json()["session"]["assigned_to"] is None
    assert assignee(oldest) == "Alice"


def test_both_forms_of_the_decision_serve_the_oldest_waiting_session(two_waiting):
    """The ORM steps (SQLite's decision; run here on PostgreSQL too) and the decision on
    creation (PostgreSQL: the database function) agree on the session, who and why."""
    oldest, _ = two_waiting

    def decided(decide) -> tuple:
        with transaction.atomic():
            with decisions.collect():
                AssignmentSettings.objects.update(auto_assign=False)
                new = ChatSessionFactory(created_at=MONDAY_0900_UTC)
                AssignmentSettings.objects.update(auto_assign=True)
            decision = decide(new)
            transaction.set_rollback(True)
        assert decision.assigned_to is not None
        return decision.session_id, decision.assigned_to.name, decision.reason, decision.candidates

    step_by_step = decided(
        lambda new: policy._decide_step_by_step(
            session_id=new.pk, at=MONDAY_0900_UTC, kind="automatic"
        )
    )
    on_creation = decided(lambda new: policy.session_assign_on_creation(session=new).oldest_served)

    assert (
        step_by_step
        == on_creation
        == (
            oldest.pk,
            "Alice",
            policy.QUEUE_REASON_PREFIX + "never assigned",
            3,
        )
    )


def test_a_session_younger_than_the_new_one_does_not_take_its_turn(cast):
    """Only older sessions go first: one created later (another host's clock) does not."""
    later = ChatSessionFactory(created_at=MONDAY_0900_UTC + timedelta(minutes=5))
    config.auto_assign_set(enabled=True)

    new, decision = session_with_decision(created_at=MONDAY_0900_UTC)

    assert decision.outcome is policy.Outcome.ASSIGNED
    assert (assignee(new), assignee(later)) == ("Alice", None)
