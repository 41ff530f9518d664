"""The settings page reads in a fixed number of queries, with 5 rows or 200."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from staff.models import Staff, WorkingTime
from tests.factories import make_working_time

pytestmark = pytest.mark.django_db

# The most either tab may take (session, user, permissions, the page's own reads).
QUERY_BUDGET = 10


def queries_to_render(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def grow_store(*, working_times: int, staff: int) -> None:
    """Add working times and staff until there are that many of each."""
    existing = list(WorkingTime.objects.all())
    made = existing + [
        make_working_time(
            f"Shift {n:03}", "Europe/London", {"mon": [["09:00", "12:00"], ["22:00", "02:00"]]}
        )
        for n in range(len(existing), working_times)
    ]
    Staff.objects.bulk_create(
        Staff(
            name=f"Staff {n:03}",
            email=f"staff{n}@example.com",
            working_time=made[n % len(made)] if n % 3 else None,
            max_open_sessions=n % 4 or None,
            last_assigned_at=timezone.now() if n % 2 else None,
        )
        for n in range(Staff.objects.count(), staff)
    )


@pytest.mark.parametrize(
    ("tab", "small", "large"),
    [
        ("chat_assistant:working-times", (5, 5), (200, 200)),
        # Every staff row lists every working time, so 40 of them already make 8,000 options.
        ("chat_assistant:automatic-assignment", (5, 5), (40, 200)),
    ],
)
def test_each_tab_renders_in_the_same_number_of_queries_for_5_or_200_rows(
    manager_client, tab, small, large
):
    url = reverse(tab)
    grow_store(working_times=small[0], staff=small[1])
    few = queries_to_render(manager_client, url)

    grow_store(working_times=large[0], staff=large[1])
    many = queries_to_render(manager_client, url)

    assert few == many
    assert many <= QUERY_BUDGET
