"""The benchmark's raw-SQL reference writes the tables the app writes: a schema change (a
new NOT NULL column such as the message's author) must not leave it behind unnoticed."""

from __future__ import annotations

import pytest
from django.db import connection

from assignment.models import ChatSession, Message
from bench import reference

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_reference_prepares_its_rows_on_the_current_schema():
    with connection.cursor() as cursor:
        reference.prepare(cursor)

    sessions = ChatSession.objects.filter(channel="pgbench")
    assert sessions.count() == reference.FOLLOW_UP_CUSTOMERS
    assert Message.objects.filter(session__in=sessions, author="customer").count() == (
        reference.FOLLOW_UP_CUSTOMERS
    )
