"""close_idle_sessions against what happens between its list and each close.

The list is made first, then each session is closed in its own transaction: a session may
be assigned, reassigned or written to in between. Each is re-checked under its row lock,
and the close is stamped with its own time (so never before the session's assignment).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from assignment import config, idle_sessions, policy
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import ChatSession
from staff.models import Staff
from tests.factories import ChatSessionFactory

IDLE_FOR = timedelta(minutes=30)


def idle_waiting_session() -> ChatSession:
    """A session silent for an hour that waits (created while automatic assignment was
    off), with automatic assignment on again."""
    config.auto_assign_set(enabled=False)
    long_ago = timezone.now() - timedelta(hours=1)
    session = ChatSessionFactory(customer_id="waiting", created_at=long_ago)
    config.auto_assign_set(enabled=True)
    return session


def idle_assigned_session(customer: str = "assigned") -> ChatSession:
    long_ago = timezone.now() - timedelta(hours=1)
    session = ChatSessionFactory(customer_id=customer, created_at=long_ago)
    session.refresh_from_db()
    assert session.assigned_staff is not None
    return session


@pytest.mark.django_db
def test_a_session_assigned_from_the_queue_since_the_list_stays_open(cast, auto_assign_on):
    session = idle_waiting_session()
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    assert idle.session_ids == [session.pk]

    decision = policy.assign_oldest_waiting()
    closed = idle_sessions.close_idle_sessions(idle=idle)

    assert decision.session_id == session.pk and closed == []
    session.refresh_from_db()
    assert session.status == "open" and session.assigned_staff_id == decision.assigned_to.id
    assert Staff.objects.get(pk=session.assigned_staff_id).open_sessions == 1  # still held


@pytest.mark.django_db
def test_a_session_reassigned_since_the_list_stays_open(cast, auto_assign_on):
    session = idle_assigned_session()
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    other = cast["bob"] if session.assigned_staff_id == cast["alice"].pk else cast["alice"]

    policy.session_assign_manually(session=session, staff=other, assigned_by=None)
    closed = idle_sessions.close_idle_sessions(idle=idle)

    assert closed == []
    session.refresh_from_db()
    assert (session.status, session.assigned_staff_id) == ("open", other.pk)


@pytest.mark.django_db
def test_a_session_written_to_since_the_list_stays_open_even_if_idle_again(cast, auto_assign_on):
    """The message is dated (``now``) before the cutoff, so only the changed
    last_message_at tells that something happened since the list."""
    session = idle_assigned_session()
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    ingest_message(
        incoming=IncomingMessage(message_id="late", customer_id="assigned"),
        now=idle.cutoff - timedelta(seconds=1),
    )

    assert idle_sessions.close_idle_sessions(idle=idle) == []
    session.refresh_from_db()
    assert session.status == "open"


@pytest.mark.django_db
def test_each_close_is_stamped_with_its_own_time_not_the_lists(cast, auto_assign_on):
    first, second = idle_assigned_session("first"), idle_assigned_session("second")
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    ticks = iter([idle.now + timedelta(seconds=5), idle.now + timedelta(seconds=9)])

    closed = idle_sessions.close_idle_sessions(idle=idle, clock=lambda: next(ticks))

    assert closed == [first.pk, second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.closed_at == idle.now + timedelta(seconds=5)
    assert second.closed_at == idle.now + timedelta(seconds=9)
    assert first.closed_at >= first.assigned_at and second.closed_at >= second.assigned_at


@pytest.mark.django_db
def test_by_default_the_close_is_stamped_with_the_real_time_of_the_close(cast, auto_assign_on):
    session = idle_assigned_session()
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    after_the_list = timezone.now()

    assert idle_sessions.close_idle_sessions(idle=idle) == [session.pk]
    session.refresh_from_db()
    assert session.closed_at >= after_the_list > idle.now


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_assignment_committing_while_the_close_waits_for_the_lock_wins(cast, auto_assign_on):
    """The interleaving made deterministic: list; another connection assigns the session
    and holds its transaction open; the close blocks on the row lock (seen in
    pg_stat_activity); the assignment commits; the close sees it and leaves the session."""
    session = idle_waiting_session()
    idle = idle_sessions.idle_sessions(idle_for=IDLE_FOR)
    assigned, may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def assign_and_hold() -> None:
        try:
            with transaction.atomic():
                policy.session_assign_manually(
                    session=session, staff=cast["carol"], assigned_by=None
                )
                assigned.set()
                may_commit.wait(timeout=30)
        finally:
            connection.close()

    def close() -> None:
        try:
            outcome["closed"] = idle_sessions.close_idle_sessions(idle=idle)
        finally:
            connection.close()

    assigner, closer = threading.Thread(target=assign_and_hold), threading.Thread(target=close)
    assigner.start()
    assert assigned.wait(timeout=30)
    closer.start()
    deadline = time.monotonic() + 30
    while not _a_backend_waits_for_a_row_lock():
        assert time.monotonic() < deadline, "the close never waited for the lock"
        time.sleep(0.01)
    may_commit.set()
    assigner.join(timeout=30)
    closer.join(timeout=30)

    assert outcome["closed"] == []
    session.refresh_from_db()
    assert (session.status, session.assigned_staff_id) == ("open", cast["carol"].pk)
    assert Staff.objects.get(pk=cast["carol"].pk).open_sessions == 1


def _a_backend_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0
