"""PostgreSQL: one decision is one call of ``chatassist_assign_next`` (migration 0005).

Who is on duty is judged in Python from this process's copy of the working hours; the
database refuses a decision judged from hours that changed since, and the policy judges
again. The reason is worded in SQL the way ``policy.describe_duration`` words it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from assignment import config, policy
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from staff.models import WorkingTime
from staff.services import working_time_save
from tests.factories import ChatSessionFactory, StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MONDAY_0900_UTC = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 17:00 in Taipei


def new_session() -> ChatSession:
    with time_machine.travel(MONDAY_0900_UTC, tick=False):
        session = ChatSessionFactory(created_at=MONDAY_0900_UTC)
    session.refresh_from_db()
    return session


@pytest.fixture
def taipei_staff() -> WorkingTime:
    """One staff member in Taipei, on duty 09:00-18:00 on Mondays; this process has read it."""
    taipei = working_time_save(
        name="Taipei", timezone="Asia/Taipei", hours={"mon": [["09:00", "18:00"]]}
    )
    StaffFactory(name="Mei", email="mei@example.com", working_time=taipei)
    config.auto_assign_set(enabled=True)
    assert new_session().assigned_staff.name == "Mei"  # the copy of the hours is current
    return taipei


def change_hours(working_time: WorkingTime, hours: dict) -> None:
    working_time_save(
        working_time=working_time, name=working_time.name, timezone="Asia/Taipei", hours=hours
    )


def test_hours_changed_since_they_were_read_are_read_again_before_deciding(taipei_staff):
    change_hours(taipei_staff, {"mon": [["09:00", "17:00"]]})  # 17:00 is now off duty

    waiting = new_session()
    assert waiting.assigned_staff is None

    change_hours(taipei_staff, {"mon": [["16:00", "17:30"]]})  # on duty again

    newer = new_session()
    waiting.refresh_from_db()
    # Decided on the new hours; first come, first served gives Mei the one that waited.
    assert waiting.assigned_staff.name == "Mei"
    assert newer.assigned_staff is None


def test_a_time_zone_change_is_noticed_too(taipei_staff):
    working_time_save(
        working_time=taipei_staff,
        name="Taipei",
        timezone="Europe/London",  # 09:00 there: on duty until 18:00
        hours={"mon": [["09:00", "18:00"]]},
    )
    with time_machine.travel(MONDAY_0900_UTC - timedelta(hours=1), tick=False):
        early = ChatSessionFactory(created_at=MONDAY_0900_UTC - timedelta(hours=1))

    early.refresh_from_db()
    assert early.assigned_staff is None  # 08:00 in London


def test_the_settings_row_is_created_when_a_flush_removed_it(taipei_staff):
    AssignmentSettings.objects.all().delete()

    assert new_session().assigned_staff is None  # automatic assignment is off by default
    assert AssignmentSettings.objects.get().auto_assign is False


def test_the_queue_call_reports_an_empty_queue_without_writing(taipei_staff):
    events = AssignmentEvent.objects.count()

    assert (
        policy.assign_oldest_waiting(now=MONDAY_0900_UTC).outcome is policy.Outcome.NOTHING_WAITING
    )
    assert AssignmentEvent.objects.count() == events


@pytest.mark.parametrize(
    "elapsed",
    [
        timedelta(0),
        timedelta(seconds=59, microseconds=999_999),
        timedelta(minutes=1),
        timedelta(minutes=59, seconds=59),
        timedelta(hours=1),
        timedelta(hours=3, minutes=12, seconds=30),
        timedelta(days=1),
        timedelta(days=2, hours=4, minutes=59),
        timedelta(days=400, hours=23),
        timedelta(seconds=-5),  # a clock that went back: never a negative duration
    ],
)
def test_the_database_words_durations_as_the_policy_does(elapsed):
    with connection.cursor() as cursor:
        cursor.execute("SELECT chatassist_describe_duration(%s)", [elapsed])
        worded = cursor.fetchone()[0]

    assert worded == policy.describe_duration(elapsed)
