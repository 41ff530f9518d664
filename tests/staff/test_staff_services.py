from datetime import UTC, datetime

import pytest

from staff import services
from staff.models import Staff
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_saving_a_stale_copy_never_writes_back_the_policys_fields():
    stale = StaffFactory(name="Alice", email="alice@example.com")
    stamp = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    Staff.objects.filter(pk=stale.pk).update(open_sessions=2, last_assigned_at=stamp)

    services.staff_save(email="alice@example.com", name="Alice W.", working_time=None, staff=stale)

    fresh = Staff.objects.get(pk=stale.pk)
    assert fresh.name == "Alice W."
    assert (fresh.open_sessions, fresh.last_assigned_at) == (2, stamp)


def test_a_new_staff_member_is_created_with_every_field():
    member = services.staff_save(
        email=" Bob@Example.com ", name=" Bob ", working_time=None, max_open_sessions=3
    )

    saved = Staff.objects.get(pk=member.pk)
    assert (saved.email, saved.name, saved.max_open_sessions, saved.active) == (
        "bob@example.com",
        "Bob",
        3,
        True,
    )
