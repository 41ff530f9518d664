"""The assignment policy and ingestion under real concurrency, on PostgreSQL.

Every test releases many transactions at once (threads with their own connections, or
forked processes) through the real code paths, then checks the exact outcome in the
database. The lock that makes this exact is described in ``assignment.policy``: every
decision holds the ``AssignmentSettings`` row, so decisions are serialised, each one sees
all earlier ones, and the clock is read under the lock. Hence, besides the counts, the
tests check the strict rotation of staff in event order: any decision that ran without
the lock breaks it.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count
from django.test import Client

from assignment import config
from assignment.ingestion import IngestResult, ingest_message, parse_payload
from assignment.models import AssignmentEvent, ChatSession, Message
from assignment.policy import Outcome, assign_oldest_waiting
from staff.models import Staff
from tests.conftest import WEBHOOK_URL, sign_headers
from tests.factories import (
    ChatSessionFactory,
    StaffFactory,
    make_working_time,
    session_with_decision,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BARRIER_TIMEOUT = 30  # seconds; only reached when a worker hangs or dies before the start


# --- Helpers ---------------------------------------------------------------------------------


def run_together(work: Callable[..., Any], calls: Sequence[tuple]) -> list[Any]:
    """Run ``work(*args)`` for each of ``calls`` in its own thread, released together.

    Each thread opens its own connection before the barrier (so connecting does not spread
    the start) and closes it at the end. Returns the results in the order of ``calls``;
    re-raises the first exception a thread raised.
    """
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, args: tuple) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            results[index] = work(*args)
        except BaseException as error:
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, args), daemon=True)
        for index, args in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BARRIER_TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def ingest(payload: dict) -> IngestResult:
    """The webhook's path below HTTP: parse the body, then ingest it."""
    return ingest_message(incoming=parse_payload(json.dumps(payload).encode()))


def deliver(payload: dict, webhook_id: str) -> tuple[int, dict]:
    """A signed delivery through the webhook view; returns (status, body)."""
    body = json.dumps(payload).encode()
    response = Client().post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        **sign_headers(body, msg_id=webhook_id),
    )
    return response.status_code, response.json()


def new_customers(prefix: str, count: int) -> list[tuple[dict]]:
    return [
        ({"message_id": f"{prefix}-m{index}", "customer_id": f"{prefix}-c{index}"},)
        for index in range(count)
    ]


def make_team(size: int, **fields: Any) -> list[Staff]:
    """``size`` staff on duty around the clock, in the order they were added."""
    always_on = make_working_time()
    return [StaffFactory(working_time=always_on, **fields) for _ in range(size)]


def sessions_per_staff() -> dict[int | None, int]:
    rows = ChatSession.objects.values("assigned_staff").annotate(n=Count("id")).order_by()
    return {row["assigned_staff"]: row["n"] for row in rows}


def open_sessions_counters() -> dict[int, int]:
    return dict(Staff.objects.values_list("id", "open_sessions"))


def staff_in_event_order() -> list[int]:
    return list(AssignmentEvent.objects.order_by("id").values_list("staff_id", flat=True))


def assert_decisions_serialised() -> None:
    """Events were written under the lock, so in id order their stamps strictly increase."""
    stamps = list(AssignmentEvent.objects.order_by("id").values_list("created_at", flat=True))
    assert all(earlier < later for earlier, later in pairwise(stamps))


# --- Automatic assignment of simultaneous new customers --------------------------------------


def test_simultaneous_new_customers_are_shared_in_strict_rotation():
    team = make_team(4)
    ids = [member.pk for member in team]
    config.auto_assign_set(enabled=True)

    for burst in range(1, 4):
        results = run_together(ingest, new_customers(f"burst{burst}", 20))

        assert [result.outcome for result in results] == ["assigned"] * 20
        assert all(result.created for result in results)
        total, each = 20 * burst, 5 * burst
        assert ChatSession.objects.count() == total
        assert sessions_per_staff() == dict.fromkeys(ids, each)  # no None key: none waits
        assert open_sessions_counters() == dict.fromkeys(ids, each)
        assert AssignmentEvent.objects.count() == total
        assert AssignmentEvent.objects.values("session").distinct().count() == total
        # Never assigned first (in the order added), then the longest since the last.
        assert staff_in_event_order() == ids * each
        assert_decisions_serialised()
        stamps = list(Staff.objects.values_list("last_assigned_at", flat=True))
        assert None not in stamps and len(set(stamps)) == 4
        assigned_at = list(ChatSession.objects.values_list("assigned_at", flat=True))
        assert len(set(assigned_at)) == total
        # Each answer names the staff member the database holds for its session.
        holders = dict(ChatSession.objects.values_list("id", "assigned_staff_id"))
        for result in results:
            assert result.body["session"]["assigned_to"]["id"] == holders[result.session_id]


def test_simultaneous_new_customers_never_exceed_capacity():
    team = make_team(3, max_open_sessions=2)
    ids = [member.pk for member in team]
    config.auto_assign_set(enabled=True)

    results = run_together(ingest, new_customers("cap", 10))

    assert Counter(result.outcome for result in results) == {"assigned": 6, "queued": 4}
    assert ChatSession.objects.count() == 10
    assert sessions_per_staff() == {**dict.fromkeys(ids, 2), None: 4}
    assert open_sessions_counters() == dict.fromkeys(ids, 2)
    assert AssignmentEvent.objects.count() == 6
    assert staff_in_event_order() == ids * 2
    for result in results:
        assigned_to = result.body["session"]["assigned_to"]
        assert (assigned_to is None) == (result.outcome == "queued")


# --- Idempotency and one open session per customer -------------------------------------------


def test_simultaneous_redeliveries_store_the_message_once(cast, auto_assign_on):
    payload = {"message_id": "m-dup", "customer_id": "c-dup", "text": "Hello"}

    answers = run_together(deliver, [(payload, "evt-dup")] * 12)

    assert sorted(status for status, _ in answers) == [200] * 11 + [201]
    first_body = next(body for status, body in answers if status == 201)
    assert all(body == first_body for _, body in answers)
    session = ChatSession.objects.get()
    message = Message.objects.get()
    assert message.session_id == session.pk
    assert first_body["session"]["id"] == session.pk
    assert first_body["session"]["created"] is True
    assert first_body["session"]["assigned_to"]["email"] == "alice@example.com"
    assert AssignmentEvent.objects.count() == 1
    assert open_sessions_counters() == {cast["alice"].pk: 1, cast["bob"].pk: 0, cast["carol"].pk: 0}


def test_simultaneous_first_messages_of_one_customer_open_one_session(cast, auto_assign_on):
    calls = [({"message_id": f"m-{index}", "customer_id": "c-1"},) for index in range(12)]

    results = run_together(ingest, calls)

    assert sorted(result.outcome for result in results) == ["assigned"] + ["existing"] * 11
    assert all(result.created for result in results)
    session = ChatSession.objects.get(channel="web", customer_id="c-1", status="open")
    assert ChatSession.objects.count() == 1
    assert {result.session_id for result in results} == {session.pk}
    assert sorted(session.messages.values_list("message_id", flat=True)) == sorted(
        f"m-{index}" for index in range(12)
    )
    assert session.assigned_staff_id == cast["alice"].pk
    assert AssignmentEvent.objects.get().session_id == session.pk
    assert open_sessions_counters() == {cast["alice"].pk: 1, cast["bob"].pk: 0, cast["carol"].pk: 0}
    for result in results:
        assert result.body["session"]["assigned_to"]["id"] == cast["alice"].pk


# --- The waiting queue worked from several places at once ------------------------------------


def drain_queue() -> int:
    assigned = 0
    while assign_oldest_waiting().assigned:
        assigned += 1
    return assigned


def test_session_created_outside_a_transaction_is_decided_in_one(cast):
    """The policy's lock needs a transaction; a bare ``create()`` in autocommit has none.

    The receiver must open one (``transaction.atomic(savepoint=False)`` joins the caller's
    transaction when there is one), or the lock is either refused or released at once.
    """
    config.auto_assign_set(enabled=True)

    session, decision = session_with_decision()

    assert decision.outcome is Outcome.ASSIGNED
    session.refresh_from_db()
    assert session.assigned_staff_id == cast["alice"].pk
    assert AssignmentEvent.objects.get().session_id == session.pk


def test_concurrent_queue_workers_assign_each_waiting_session_once(cast):
    # Created in one transaction: see the test above for a bare create() in autocommit.
    with transaction.atomic():
        created = [session_with_decision() for _ in range(30)]
    assert {decision.outcome for _, decision in created} == {Outcome.AUTO_ASSIGN_OFF}
    waiting = [session for session, _ in created]
    assert not AssignmentEvent.objects.exists()
    config.auto_assign_set(enabled=True)

    assigned_by_worker = run_together(drain_queue, [()] * 4)

    assert sum(assigned_by_worker) == 30
    ids = [cast[name].pk for name in ("alice", "bob", "carol")]
    assert sessions_per_staff() == dict.fromkeys(ids, 10)
    assert open_sessions_counters() == dict.fromkeys(ids, 10)
    events = AssignmentEvent.objects.order_by("id")
    assert [event.kind for event in events] == [AssignmentEvent.Kind.QUEUE] * 30
    # Each session exactly once, oldest first, to the staff in strict rotation.
    oldest_first = sorted(waiting, key=lambda session: (session.created_at, session.pk))
    assert [event.session_id for event in events] == [session.pk for session in oldest_first]
    assert staff_in_event_order() == ids * 10
    assert_decisions_serialised()


def test_queue_workers_and_new_customers_at_once_share_one_rotation(cast):
    """Queue workers and the webhook decide under the same lock: one rotation for both.

    (Among queue workers alone the oldest session's row lock already serialises them; only
    a race with new sessions shows whether the queue path holds the assignment lock.)
    """
    with transaction.atomic():
        waiting = [ChatSessionFactory() for _ in range(15)]  # auto-assignment off: "manual"
    config.auto_assign_set(enabled=True)
    jobs = [(drain_queue,)] * 3 + [(ingest, *call) for call in new_customers("live", 15)]

    results = run_together(lambda job, *args: job(*args), jobs)
    # A new customer that came while sessions waited waits too (first come, first served);
    # the last of them may arrive after the workers finished: one more run serves it.
    late = drain_queue()

    outcomes = [result.outcome for result in results[3:]]
    assert set(outcomes) <= {"assigned", "queued"}
    # Every decision assigned one session: the workers', and each new customer's, whether
    # to itself ("assigned") or, first come first served, to an older one ("queued").
    assert sum(results[:3]) + late + len(outcomes) == 30
    ids = [cast[name].pk for name in ("alice", "bob", "carol")]
    assert ChatSession.objects.count() == 30
    assert sessions_per_staff() == dict.fromkeys(ids, 10)
    assert open_sessions_counters() == dict.fromkeys(ids, 10)
    assert staff_in_event_order() == ids * 10
    assert_decisions_serialised()
    # Each decision assigned one session, and those waiting from the start went first.
    events = AssignmentEvent.objects.order_by("id")
    oldest_first = sorted(waiting, key=lambda session: (session.created_at, session.pk))
    assert [event.session_id for event in events[:15]] == [session.pk for session in oldest_first]
    assert {event.kind for event in events[:15]} == {AssignmentEvent.Kind.QUEUE}
    assert events.values("session_id").distinct().count() == 30
    assert AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.AUTOMATIC).count() == (
        outcomes.count("assigned")
    )


# --- Separate processes ----------------------------------------------------------------------


def ingest_in_child(barrier, reports, worker: int) -> None:
    """A forked worker: its own connection to the parent's test database, 5 customers."""
    connections.close_all()  # the parent closed its own first: nothing is shared
    try:
        connection.ensure_connection()
        barrier.wait()
        outcomes = [ingest(payload).outcome for (payload,) in new_customers(f"p{worker}", 5)]
        reports.put((worker, connection.settings_dict["NAME"], outcomes, None))
    except BaseException:
        reports.put((worker, None, None, traceback.format_exc()))
    finally:
        connections.close_all()


def test_new_customers_from_separate_processes_are_shared_evenly():
    team = make_team(4)
    ids = [member.pk for member in team]
    config.auto_assign_set(enabled=True)
    test_database = connection.settings_dict["NAME"]
    assert test_database.startswith("test_")

    context = multiprocessing.get_context("fork")
    connections.close_all()  # a forked child must not inherit an open connection
    barrier = context.Barrier(4, timeout=BARRIER_TIMEOUT)
    reports = context.Queue()
    processes = [
        context.Process(target=ingest_in_child, args=(barrier, reports, worker), daemon=True)
        for worker in range(4)
    ]
    for process in processes:
        process.start()
    received = [reports.get(timeout=BARRIER_TIMEOUT * 2) for _ in processes]
    for process in processes:
        process.join(timeout=BARRIER_TIMEOUT)

    assert [error for *_, error in received if error] == []
    assert [process.exitcode for process in processes] == [0] * 4
    assert {name for _, name, _, _ in received} == {test_database}
    assert [outcome for *_, outcomes, _ in received for outcome in outcomes] == ["assigned"] * 20
    assert ChatSession.objects.count() == 20
    assert sessions_per_staff() == dict.fromkeys(ids, 5)
    assert open_sessions_counters() == dict.fromkeys(ids, 5)
    assert staff_in_event_order() == ids * 5
    assert_decisions_serialised()
