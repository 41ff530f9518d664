"""Dated exceptions decide who is on duty on every path (CONTRACT "Date exceptions in
working times"): a new session, the waiting queue, ``on_duty``; on PostgreSQL through the
process's copy of the hours, which a changed exception makes stale."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from assignment import config, policy
from assignment.policy import Outcome
from staff.models import WorkingTime
from staff.services import exception_remove, exception_set, working_time_save
from tests.factories import StaffFactory, decision_for_new_session, make_working_time

pytestmark = pytest.mark.django_db

# Taipei is UTC+8 all year. 25 December 2026 is a Friday, 31 December a Thursday.
CHRISTMAS_1000_TAIPEI = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)
NEW_YEARS_EVE_1400_TAIPEI = datetime(2026, 12, 31, 6, 0, tzinfo=UTC)
NEW_YEARS_EVE_1600_TAIPEI = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)


@pytest.fixture
def taipei_store() -> dict:
    """Taipei day (weekdays 09:00-18:00) for Alice, London late (22:00-02:00 every night)
    for Bob, away unless a test needs him; automatic assignment on."""
    taipei = make_working_time(
        "Taipei day",
        "Asia/Taipei",
        {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    london = make_working_time(
        "London late",
        "Europe/London",
        {day: [["22:00", "02:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    alice = StaffFactory(name="Alice", email="alice@example.com", working_time=taipei)
    bob = StaffFactory(name="Bob", email="bob@example.com", working_time=london, active=False)
    config.auto_assign_set(enabled=True)
    return {"taipei": taipei, "london": london, "alice": alice, "bob": bob}


def on_duty_names(at: datetime) -> list[str]:
    out = io.StringIO()
    call_command("on_duty", "--at", at.isoformat(), "--json", stdout=out)
    return [entry["name"] for entry in json.loads(out.getvalue())]


def assigned_name(at: datetime) -> str | None:
    """Who the decision a new session triggers at ``at`` gave a session to: the new one, or
    (first come, first served) the oldest waiting one."""
    decision = decision_for_new_session(created_at=at, last_message_at=at)
    served = decision.oldest_served or decision
    return served.assigned_to.name if served.assigned_to else None


def test_a_closed_day_takes_its_staff_off_duty_for_on_duty_and_assignment(taipei_store):
    assert on_duty_names(CHRISTMAS_1000_TAIPEI) == ["Alice"]
    exception_set(working_time=taipei_store["taipei"], day="2026-12-25", hours=[], name="Christmas")

    assert on_duty_names(CHRISTMAS_1000_TAIPEI) == []
    decision = decision_for_new_session(created_at=CHRISTMAS_1000_TAIPEI)
    assert decision.outcome is Outcome.QUEUED
    # The same hour a week earlier (also a Friday) is an ordinary day.
    assert assigned_name(CHRISTMAS_1000_TAIPEI - timedelta(days=7)) == "Alice"


def test_special_hours_replace_the_day(taipei_store):
    exception_set(working_time=taipei_store["taipei"], day="2026-12-31", hours=[["09:00", "15:00"]])

    assert on_duty_names(NEW_YEARS_EVE_1400_TAIPEI) == ["Alice"]
    assert on_duty_names(NEW_YEARS_EVE_1600_TAIPEI) == []
    assert assigned_name(NEW_YEARS_EVE_1600_TAIPEI) is None
    assert assigned_name(NEW_YEARS_EVE_1400_TAIPEI) == "Alice"


def test_the_waiting_queue_waits_through_a_closed_day_and_serves_the_next(taipei_store):
    exception_set(working_time=taipei_store["taipei"], day="2026-12-25", hours=[])
    decision = decision_for_new_session(created_at=CHRISTMAS_1000_TAIPEI)
    assert decision.outcome is Outcome.QUEUED

    assert policy.assign_oldest_waiting(now=CHRISTMAS_1000_TAIPEI + timedelta(hours=1)).outcome is (
        Outcome.QUEUED
    )
    # Monday 28 December 09:30 in Taipei: Alice is back.
    served = policy.assign_oldest_waiting(now=datetime(2026, 12, 28, 1, 30, tzinfo=UTC))
    assert served.outcome is Outcome.ASSIGNED
    assert served.assigned_to is not None and served.assigned_to.name == "Alice"


# --- Past midnight on both sides of an exception date -----------------------------------------


@pytest.fixture
def london_store(taipei_store) -> dict:
    """Only Bob's London nights count: Alice is away, Bob is back."""
    taipei_store["alice"].active, taipei_store["bob"].active = False, True
    taipei_store["alice"].save()
    taipei_store["bob"].save()
    return taipei_store


# London is on GMT in December: local time is UTC.
FRIDAY_0100_LONDON = datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
SATURDAY_0100_LONDON = datetime(2026, 12, 26, 1, 0, tzinfo=UTC)


def test_an_exception_on_the_day_a_night_shift_ends_keeps_its_tail(london_store):
    # Friday 25 December closed: Thursday night's shift still runs to Friday 02:00.
    exception_set(working_time=london_store["london"], day="2026-12-25", hours=[])

    assert on_duty_names(FRIDAY_0100_LONDON) == ["Bob"]
    assert assigned_name(FRIDAY_0100_LONDON) == "Bob"
    # Friday night's own shift (starting on the closed date) does not happen.
    assert on_duty_names(SATURDAY_0100_LONDON) == []


def test_an_exception_on_the_day_a_night_shift_starts_takes_its_tail_too(london_store):
    exception_set(working_time=london_store["london"], day="2026-12-24", hours=[])

    assert on_duty_names(FRIDAY_0100_LONDON) == []
    assert assigned_name(FRIDAY_0100_LONDON) is None


def test_an_exceptions_own_tail_runs_into_the_next_date(london_store):
    # Christmas Eve from 20:00 to 03:00: on duty at 02:30 on Christmas Day, past the 02:00
    # of an ordinary night.
    exception_set(working_time=london_store["london"], day="2026-12-24", hours=[["20:00", "03:00"]])

    assert on_duty_names(datetime(2026, 12, 25, 2, 30, tzinfo=UTC)) == ["Bob"]
    assert on_duty_names(datetime(2026, 12, 24, 20, 30, tzinfo=UTC)) == ["Bob"]
    assert on_duty_names(datetime(2026, 12, 25, 3, 0, tzinfo=UTC)) == []


def test_new_york_fall_back_closed_sunday_keeps_saturdays_night_shift():
    night = make_working_time("NY nights", "America/New_York", {"sat": [["22:00", "02:00"]]})
    StaffFactory(name="Nia", email="nia@example.com", working_time=night)
    config.auto_assign_set(enabled=True)
    exception_set(working_time=night, day="2026-11-01", hours=[])

    # 01:30 EDT and 01:30 EST on Sunday 1 November: both in Saturday's shift.
    assert on_duty_names(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) == ["Nia"]
    assert on_duty_names(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) == ["Nia"]
    assert on_duty_names(datetime(2026, 11, 1, 7, 0, tzinfo=UTC)) == []  # 02:00 EST


# --- The PostgreSQL path's copy of the hours ----------------------------------------------------


def test_a_changed_exception_is_honoured_by_the_next_decision(taipei_store):
    """On PostgreSQL the first decision leaves this process a copy of the hours; adding,
    changing and removing an exception must each make the next decision judge afresh."""
    at = CHRISTMAS_1000_TAIPEI
    assert assigned_name(at) == "Alice"
    taipei = taipei_store["taipei"]

    exception_set(working_time=taipei, day="2026-12-25", hours=[])
    assert assigned_name(at + timedelta(minutes=1)) is None

    exception_set(working_time=taipei, day="2026-12-25", hours=[["09:00", "11:00"]])
    assert assigned_name(at + timedelta(minutes=2)) == "Alice"

    exception_set(working_time=taipei, day="2026-12-25", hours=[["10:30", "11:00"]])
    assert assigned_name(at + timedelta(minutes=3)) is None

    exception_remove(working_time=taipei, day=at.date())
    assert assigned_name(at + timedelta(minutes=4)) == "Alice"


def test_weekly_hours_saved_without_exceptions_keep_them(taipei_store):
    exception_set(working_time=taipei_store["taipei"], day="2026-12-25", hours=[])
    working_time_save(
        working_time=WorkingTime.objects.get(name="Taipei day"),
        name="Taipei day",
        timezone="Asia/Taipei",
        hours={"fri": [["08:00", "20:00"]]},
    )

    assert on_duty_names(CHRISTMAS_1000_TAIPEI) == []
    assert on_duty_names(CHRISTMAS_1000_TAIPEI + timedelta(days=7)) == ["Alice"]


@pytest.mark.postgres
def test_the_hours_digest_changes_with_an_exception_but_not_its_name(taipei_store):
    def digest() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT chatassist_hours_digest()")
            return cursor.fetchone()[0]

    before = digest()
    exception_set(working_time=taipei_store["taipei"], day="2026-12-25", hours=[])
    closed = digest()
    exception_set(working_time=taipei_store["taipei"], day="2026-12-25", hours=[["09:00", "12:00"]])
    short = digest()

    assert len({before, closed, short}) == 3
    taipei_store["taipei"].exceptions.update(name="Christmas Day")
    assert digest() == short
