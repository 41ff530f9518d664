"""The SQL one webhook delivery runs, exactly, and that it does not grow with the store.

A regression guard for the speed work (docs/BENCHMARKS.md): each case is one signed
delivery through the test client, counted with ``django_assert_num_queries`` (which lists
every statement when the count is off). Transactional tests, so the counts include the
``BEGIN`` and ``COMMIT`` a server sends rather than a test's savepoints. The same count at
10 and at 1,000 staff: no statement may scan or return a row per staff member.

On PostgreSQL the whole locked part of a decision is one call of ``chatassist_assign_next``
(lock, toggle, pick, candidate count, stamps, event); elsewhere it is a query per step
(``assignment.policy``). The counts are for a process whose copy of the working hours is
current, as it is after its first decision; ``test_changed_working_hours_cost_one_read``
counts the one extra read and call after they change.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection

from assignment import config, policy
from assignment.models import AssignmentEvent, ChatSession, Message
from staff.models import Staff, WorkingTime
from staff.services import working_time_save
from tests.factories import make_working_time

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_0900_UTC = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST = {"message_id": "m-1", "customer_id": "c-1", "customer_name": "Ann", "text": "Hi"}
FOLLOW_UP = {"message_id": "m-2", "customer_id": "c-1", "text": "Still there?"}

# Statements per case: (PostgreSQL, SQLite). Spelled out once, in order, for reading:
#   new session, assigned: look-up, BEGIN, INSERT session, the decision (PostgreSQL: one
#       call; SQLite: lock, hours, pick, UPDATE staff, UPDATE session, UPDATE settings stamp,
#       INSERT event, INSERT outbound event), INSERT message, COMMIT
#   new session, queued (everyone on duty away): the same; on SQLite without the writes but
#       the INSERT of the outbound event (session.queued)
#   new session, manual (auto-assignment off): look-up, BEGIN, INSERT session,
#       the decision (SQLite: the lock alone), INSERT message, COMMIT
#   follow-up: look-up, BEGIN, UPDATE session RETURNING, INSERT message, COMMIT
#   staff reply: look-up, the staff member, BEGIN, UPDATE session RETURNING, INSERT message,
#       COMMIT (no decision: a staff message never runs the policy)
#   redelivery and conflict: look-up (no transaction)
EXPECTED = {
    "staff reply": (6, 6),
    "new session, assigned": (6, 13),
    "new session, queued": (6, 9),
    "new session, manual": (6, 6),
    "follow-up": (5, 5),
    "redelivery": (1, 1),
    "conflict": (1, 1),
}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(MONDAY_0900_UTC, tick=False):
        yield


@pytest.fixture(params=[10, 1000], ids=["10 staff", "1000 staff"])
def store(request) -> int:
    """``request.param`` staff: half on duty around the clock, half off duty now."""
    size = request.param
    always = make_working_time("Always")
    later = make_working_time("Thursdays", "Asia/Taipei", {"thu": [["09:00", "17:00"]]})
    Staff.objects.bulk_create(
        Staff(
            name=f"Staff {index}",
            email=f"staff{index}@example.com",
            working_time=later if index < size // 2 else always,
        )
        for index in range(size)
    )
    config.auto_assign_set(enabled=True)
    # What an idle queue worker does: changes nothing, and leaves this process's copy of the
    # working hours current (PostgreSQL), as any earlier decision would.
    assert policy.assign_oldest_waiting().outcome is policy.Outcome.NOTHING_WAITING
    return size


def expected(case: str) -> int:
    postgresql, other = EXPECTED[case]
    return postgresql if connection.vendor == "postgresql" else other


def test_new_session_assigned(store, post_message, django_assert_num_queries):
    with django_assert_num_queries(expected("new session, assigned")):
        response = post_message(FIRST)

    assert response.status_code == 201
    assert response.json()["session"]["assignment"] == "assigned"
    assert AssignmentEvent.objects.get().candidates == store - store // 2


def test_new_session_queued(store, post_message, django_assert_num_queries):
    Staff.objects.update(active=False)

    with django_assert_num_queries(expected("new session, queued")):
        response = post_message(FIRST)

    assert response.json()["session"]["assignment"] == "queued"


def test_new_session_manual(store, post_message, django_assert_num_queries):
    config.auto_assign_set(enabled=False)

    with django_assert_num_queries(expected("new session, manual")):
        response = post_message(FIRST)

    assert response.json()["session"]["assignment"] == "manual"


def test_changed_working_hours_cost_one_read(store, post_message, django_assert_num_queries):
    """The decision that finds this process's copy of the hours outdated reads them again and
    decides on the new ones: one refused call and one read more (PostgreSQL)."""
    working_time_save(
        working_time=WorkingTime.objects.get(name="Thursdays"),
        name="Thursdays",
        timezone="Asia/Taipei",
        hours={"mon": [["09:00", "18:00"]]},  # it is Monday 17:00 in Taipei
    )
    extra = 2 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(expected("new session, assigned") + extra):
        response = post_message(FIRST)

    assert response.json()["session"]["assignment"] == "assigned"
    assert AssignmentEvent.objects.get().candidates == store  # both halves on duty now


def test_follow_up(store, post_message, django_assert_num_queries):
    post_message(FIRST)

    with django_assert_num_queries(expected("follow-up")):
        response = post_message(FOLLOW_UP)

    assert response.status_code == 201
    assert response.json()["session"]["assignment"] == "existing"


def test_redelivery(store, post_message, django_assert_num_queries):
    post_message(FIRST)

    with django_assert_num_queries(expected("redelivery")):
        response = post_message(FIRST)

    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_conflict(store, post_message, django_assert_num_queries):
    post_message(FIRST)

    with django_assert_num_queries(expected("conflict")):
        response = post_message({**FIRST, "text": "Something else"})

    assert response.status_code == 409
    assert ChatSession.objects.count() == 1


def test_staff_reply(store, post_message, django_assert_num_queries):
    post_message(FIRST)
    reply = {**FOLLOW_UP, "author": "staff", "staff_email": "staff7@example.com"}

    with django_assert_num_queries(expected("staff reply")):
        response = post_message(reply)

    assert response.status_code == 201
    assert response.json()["session"]["assignment"] == "existing"
    assert ChatSession.objects.get().first_response_staff.email == "staff7@example.com"
