"""The per-working-time count of candidates that a trigger keeps (PostgreSQL only).

The assignment policy records how many staff were candidates for each decision by reading
``staff_with_room_count`` (migration staff 0003) instead of counting staff under the lock.
Every way a staff row can start or stop being a candidate must move the count, and nothing
else may: each test makes changes, then compares the table with a fresh count.
"""

from __future__ import annotations

import pytest
from django.db import connection

from staff.models import Staff
from staff.services import staff_save
from tests.factories import StaffFactory, make_working_time

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def kept_counts() -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT working_time_id, staff_with_room FROM staff_with_room_count"
            " WHERE staff_with_room > 0"
        )
        return dict(cursor.fetchall())


def fresh_counts() -> dict[int, int]:
    candidates = Staff.objects.filter(active=True, working_time__isnull=False)
    counts: dict[int, int] = {}
    for member in candidates:
        if member.has_room:
            counts[member.working_time_id] = counts.get(member.working_time_id, 0) + 1
    return counts


@pytest.fixture
def day():
    return make_working_time("Day")


@pytest.fixture
def night():
    return make_working_time("Night", "Asia/Taipei")


def test_new_staff_count_where_they_work(day, night):
    StaffFactory.create_batch(3, working_time=day)
    StaffFactory(working_time=night)
    StaffFactory(working_time=None)
    StaffFactory(working_time=day, active=False)

    assert kept_counts() == fresh_counts() == {day.pk: 3, night.pk: 1}


def test_away_back_moved_and_removed_staff_move_the_count(day, night):
    ann, bob, cid = StaffFactory.create_batch(3, working_time=day)

    staff_save(email=ann.email, name=ann.name, working_time=day, active=False, staff=ann)
    staff_save(email=bob.email, name=bob.name, working_time=night, staff=bob)
    Staff.objects.filter(pk=cid.pk).update(working_time=None)
    assert kept_counts() == fresh_counts() == {night.pk: 1}

    Staff.objects.filter(pk=ann.pk).update(active=True)
    bob.delete()
    assert kept_counts() == fresh_counts() == {day.pk: 1}


def test_reaching_and_leaving_capacity_move_the_count(day):
    full_soon = StaffFactory(working_time=day, max_open_sessions=2)
    StaffFactory(working_time=day)

    Staff.objects.filter(pk=full_soon.pk).update(open_sessions=1)  # still room
    assert kept_counts() == fresh_counts() == {day.pk: 2}
    Staff.objects.filter(pk=full_soon.pk).update(open_sessions=2)  # full
    assert kept_counts() == fresh_counts() == {day.pk: 1}
    Staff.objects.filter(pk=full_soon.pk).update(max_open_sessions=3)  # room again
    assert kept_counts() == fresh_counts() == {day.pk: 2}


def test_stamps_of_assignments_do_not_touch_the_count(day):
    member = StaffFactory(working_time=day)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin FROM staff_with_room_count")
        before = cursor.fetchall()

    Staff.objects.filter(pk=member.pk).update(last_assigned_at="2026-01-05T09:00:00Z")

    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin FROM staff_with_room_count")
        assert cursor.fetchall() == before  # the row was not rewritten


@pytest.mark.django_db(transaction=True)
def test_emptying_the_staff_table_empties_the_count(day):
    StaffFactory.create_batch(2, working_time=day)

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE staff_staff CASCADE")  # as Django's flush does

    assert kept_counts() == fresh_counts() == {}
