"""A staff reply arriving while the queue worker reassigns or returns the same session.

Both lock the session row (the reply's UPDATE, the worker's SELECT ... FOR UPDATE after the
assignment lock), so exactly one order happens, and each gives the right outcome:

* the reply commits first: the session is answered, the worker leaves it where it is;
* the worker commits first: the reply joins the session where the worker put it.

Each case holds one side's transaction open until the other is seen waiting for the lock
(``pg_stat_activity``), so the order is forced, not hoped for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from assignment import config, handover
from assignment.ingestion import IncomingMessage, IngestResult, ingest_message
from assignment.models import AssignmentEvent, ChatSession
from tests.factories import StaffFactory, make_working_time, session_with_decision

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=15)
WAIT_SECONDS = 30


def reply(session: ChatSession, at: datetime) -> IngestResult:
    incoming = IncomingMessage(
        message_id="r-1",
        customer_id=session.customer_id,
        author="staff",
        staff_email="alice@example.com",
    )
    return ingest_message(incoming=incoming, now=at)


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def wait_until(condition: Callable[[], bool]) -> None:
    stop = threading.Event()
    for _ in range(WAIT_SECONDS * 100):
        if condition():
            return
        stop.wait(0.01)
    raise AssertionError("the other transaction never waited for the lock")


class Held:
    """``action()`` in a thread, its transaction kept open until ``release()``."""

    def __init__(self, action: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done_inside = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(action,), daemon=True)
        self._thread.start()
        assert self.done_inside.wait(WAIT_SECONDS), "the held transaction never ran"
        if self.error:
            raise self.error

    def _run(self, action: Callable[[], Any]) -> None:
        try:
            with transaction.atomic():
                self.result = action()
                self.done_inside.set()
                self._release.wait(WAIT_SECONDS)
        except BaseException as error:
            self.error = error
            self.done_inside.set()
        finally:
            connection.close()

    def release(self) -> Any:
        self._release.set()
        self._thread.join(WAIT_SECONDS)
        if self.error:
            raise self.error
        return self.result


class InThread:
    """``action()`` in a thread of its own (its own connection and transaction)."""

    def __init__(self, action: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(action,), daemon=True)
        self._thread.start()

    def _run(self, action: Callable[[], Any]) -> None:
        try:
            self.result = action()
        except BaseException as error:
            self.error = error
        finally:
            connection.close()

    def join(self) -> Any:
        self._thread.join(WAIT_SECONDS)
        assert not self._thread.is_alive(), "the thread hung"
        if self.error:
            raise self.error
        return self.result


@pytest.fixture
def unanswered(cast) -> ChatSession:
    config.auto_assign_set(enabled=True)
    session, _ = session_with_decision(created_at=T0)
    session.refresh_from_db()
    assert session.assigned_staff == cast["alice"]
    return session


def test_a_reply_that_commits_first_keeps_the_session_where_it_is(unanswered, cast):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )
    held_reply = Held(lambda: reply(unanswered, LATER))
    worker = InThread(lambda: handover.hand_over_due(now=LATER))
    wait_until(someone_waits_for_a_lock)

    held_reply.release()
    run = worker.join()

    assert run.reassigned == []
    unanswered.refresh_from_db()
    assert unanswered.assigned_staff == cast["alice"]
    assert unanswered.first_response_at == LATER
    assert not AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.REASSIGNED).exists()


def test_a_reply_that_comes_second_joins_the_session_where_the_worker_put_it(unanswered, cast):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )
    held_worker = Held(lambda: handover.hand_over_due(now=LATER))
    late_reply = InThread(lambda: reply(unanswered, LATER))
    wait_until(someone_waits_for_a_lock)

    run = held_worker.release()
    result = late_reply.join()

    assert [moved.assigned_to.name for moved in run.reassigned] == ["Bob"]
    assert result.body["session"]["assigned_to"]["name"] == "Bob"
    unanswered.refresh_from_db()
    assert unanswered.assigned_staff == cast["bob"]
    assert unanswered.first_response_staff == cast["alice"]
    assert AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.REASSIGNED).count() == 1


def test_a_reply_that_commits_first_stops_the_return_at_the_end_of_the_shift(cast):
    day = make_working_time("Monday morning", "UTC", {"mon": [["08:00", "10:00"]]})
    StaffFactory(name="Mo", email="mo@example.com", working_time=day)
    cast["alice"].working_time = day
    cast["alice"].save()
    config.auto_assign_set(enabled=True)
    config.handover_settings_set(
        reassign_unanswered_after_minutes=None,
        return_unanswered_at_shift_end=True,
        return_open_sessions_when_away=False,
    )
    session, _ = session_with_decision(created_at=T0)
    session.refresh_from_db()
    assert session.assigned_staff == cast["alice"]
    after_shift = T0 + timedelta(hours=1, minutes=30)

    held_reply = Held(lambda: reply(session, after_shift))
    worker = InThread(lambda: handover.hand_over_due(now=after_shift))
    wait_until(someone_waits_for_a_lock)
    held_reply.release()
    run = worker.join()

    assert run.returned == []
    session.refresh_from_db()
    assert session.assigned_staff == cast["alice"]
