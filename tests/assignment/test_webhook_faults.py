"""Faults at every step of a webhook delivery: each statement it runs fails in turn.

``connection.execute_wrapper`` fails the n-th statement with an OperationalError, a lock
timeout (SQLSTATE 55P03) or a serialization failure (40001); on PostgreSQL these are raised
by the server itself (a DO block raising that SQLSTATE in place of the statement), so they
reach the app exactly as real ones do. Each time: 503 with Retry-After, nothing partial
stored, and the replay of the same delivery is processed exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test import Client

from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession, Message
from staff.models import Staff
from tests.conftest import WEBHOOK_URL, on_postgres, sign_headers

pytestmark = pytest.mark.django_db(transaction=True)  # a failed statement aborts PG's transaction

FAULTS = {
    "operational": ("08006", "connection failure"),
    "lock-timeout": ("55P03", "canceling statement due to lock timeout"),
    "serialization": ("40001", "could not serialize access due to concurrent update"),
}


def deliver(payload: dict, *, msg_id: str = "evt-1"):
    body = json.dumps(payload).encode()
    return Client().post(
        WEBHOOK_URL, data=body, content_type="application/json", **sign_headers(body, msg_id=msg_id)
    )


def store_state() -> tuple:
    return (
        list(Message.objects.order_by("id").values_list("message_id", "session_id", "text")),
        list(ChatSession.objects.order_by("id").values_list("id", "assigned_staff", "status")),
        list(AssignmentEvent.objects.order_by("id").values_list("session", "staff", "kind")),
        list(Staff.objects.order_by("id").values_list("id", "open_sessions", "last_assigned_at")),
        list(AssignmentSettings.objects.values_list("last_decision_at", flat=True)),
    )


@contextmanager
def statements_seen():
    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def failing_statement(number: int, fault: str) -> Callable:
    """An execute wrapper that lets statements through but fails the ``number``-th."""
    count = {"n": 0}
    sqlstate, message = FAULTS[fault]

    def wrapper(execute, sql, params, many, context):
        count["n"] += 1
        if count["n"] != number:
            return execute(sql, params, many, context)
        if connection.vendor == "postgresql":
            raising = (
                f"DO $$ BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '{sqlstate}'; END $$"
            )
            return execute(raising, None, False, context)
        raise OperationalError(message)  # what SQLite's driver raises for a busy or lost file

    return wrapper


def statement_count(payload: dict) -> int:
    """How many statements a delivery of this shape runs when nothing fails: measured on a
    twin (another customer, another message) so that this one is still new."""
    twin_customer = f"twin-{payload['customer_id']}"
    if payload["customer_id"] == "c-open":  # the twin needs an open session to join too
        assert deliver({"message_id": "m-twin-first", "customer_id": twin_customer}).status_code
    twin = {**payload, "message_id": f"twin-{payload['message_id']}", "customer_id": twin_customer}
    with statements_seen() as seen:
        assert deliver(twin).status_code == 201
    return len(seen)


SCENARIOS = {
    # A new customer: the look-up, then the session's INSERT, the policy's decision and
    # its assignment, the message's INSERT.
    "new session": {"message_id": "m-new", "customer_id": "c-new", "text": "Hello"},
    # A customer with an open session: the look-up, the join's UPDATE, the message INSERT.
    "joins open session": {"message_id": "m-join", "customer_id": "c-open", "text": "Again"},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_statement_failing_answers_503_stores_nothing_and_the_replay_counts_once(
    auto_assign_on, fault, scenario
):
    assert deliver({"message_id": "m-first", "customer_id": "c-open"}).status_code == 201
    payload = SCENARIOS[scenario]
    statements = statement_count(payload)
    assert statements >= 2
    tried = []

    for number in range(1, statements + 1):
        before = store_state()
        with connection.execute_wrapper(failing_statement(number, fault)):
            response = deliver(payload)
        tried.append(number)

        assert response.status_code == 503, (number, response.content)
        assert response["Retry-After"] == "5"
        assert response.json()["error"] == "The database is unavailable; try again."
        assert store_state() == before, f"statement {number} of {statements} left a trace"

    replay = deliver(payload)
    again = deliver(payload)
    print(f"\n[faults] {scenario}: {statements} statements, each failed with {fault}: 503")
    assert tried == list(range(1, statements + 1))
    assert (replay.status_code, again.status_code) == (201, 200)
    assert again.json() == replay.json()
    assert Message.objects.filter(message_id=payload["message_id"]).count() == 1
    assert sum(Staff.objects.values_list("open_sessions", flat=True)) == (
        ChatSession.objects.filter(status="open", assigned_staff__isnull=False).count()
    )


# --- Timeouts -----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_database_timeouts_are_below_a_senders_ten_seconds():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        )
        lock_timeout, statement_timeout = cursor.fetchone()

    assert (lock_timeout, statement_timeout) == ("3s", "8s")
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5


@pytest.mark.postgres
def test_a_lock_held_by_another_connection_is_a_503_not_a_hung_request(auto_assign_on):
    """Another connection holds the assignment lock (a stuck admin transaction, say): a new
    customer's delivery gives up after lock_timeout with a 503, and is stored on replay."""
    locked, release = threading.Event(), threading.Event()

    def hold_the_assignment_lock() -> None:
        try:
            with transaction.atomic():
                AssignmentSettings.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_assignment_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        response = deliver({"message_id": "m-locked", "customer_id": "c-locked"})
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=30)

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert 2.5 < waited < 10  # lock_timeout (3 s), well before a sender gives up
    assert not Message.objects.exists() and not ChatSession.objects.exists()
    assert deliver({"message_id": "m-locked", "customer_id": "c-locked"}).status_code == 201


def test_postgres_timeouts_apply_only_there():
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if on_postgres():
        assert "-c lock_timeout=3000" in options["options"]
        assert "-c statement_timeout=8000" in options["options"]
    else:
        assert "options" not in options
