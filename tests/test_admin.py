"""The admin lists and forms, as a manager uses them (the settings page has its own tests)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from assignment.models import AssignmentSettings, ChatSession
from staff.models import Staff, WorkingTime
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "staff_workingtime",
        "staff_staff",
        "assignment_chatsession",
        "assignment_message",
        "assignment_assignmentevent",
        "assignment_assignmentsettings",
    ],
)
def test_every_list_page_renders(manager_client, cast, auto_assign_on, name):
    ChatSessionFactory.create_batch(3)

    response = manager_client.get(reverse(f"admin:{name}_changelist"))

    assert response.status_code == 200


def test_waiting_filter_lists_only_unassigned_open_sessions(manager_client, cast):
    waiting = ChatSessionFactory(customer_name="Waiting Wendy")  # toggle off: stays waiting

    response = manager_client.get(
        reverse("admin:assignment_chatsession_changelist"), {"waiting": "yes"}
    )

    assert waiting in response.context["cl"].result_list


def test_working_time_is_created_through_the_admin_form_with_validation(manager_client):
    url = reverse("admin:staff_workingtime_add")
    bad = {
        "name": "Late",
        "timezone": "Mars/Base",
        "hours": json.dumps({"mon": [["09:00", "09:00"]]}),
    }

    response = manager_client.post(url, bad)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"timezone", "hours"}
    assert not WorkingTime.objects.exists()

    good = {**bad, "timezone": "Asia/Taipei", "hours": json.dumps({"sun": [["22:00", "02:00"]]})}
    response = manager_client.post(url, good)

    assert response.status_code == 302
    assert WorkingTime.objects.get().summary() == "Sun 22:00-02:00 (+1)"


def test_removing_the_last_working_time_in_the_admin_is_refused_while_on(
    manager_client, always_on, auto_assign_on, cast
):
    Staff.objects.exclude(pk=cast["alice"].pk).update(working_time=None)
    url = reverse("admin:staff_staff_change", args=[cast["alice"].pk])

    response = manager_client.post(
        url, {"name": "Alice", "email": "alice@example.com", "working_time": "", "active": "on"}
    )

    assert response.status_code == 200
    assert "working_time" in response.context["adminform"].form.errors
    assert Staff.objects.get(pk=cast["alice"].pk).working_time == always_on


def test_toggle_cannot_be_switched_on_without_working_hours(manager_client):
    AssignmentSettings.objects.get_or_create(pk=1)
    url = reverse("admin:assignment_assignmentsettings_change", args=[1])

    response = manager_client.post(url, {"auto_assign": "on"})

    assert response.status_code == 200
    assert "at least one staff member" in str(response.context["adminform"].form.errors)
    assert AssignmentSettings.objects.get().auto_assign is False


def test_close_action_frees_the_staff_members_place(manager_client, cast, auto_assign_on):
    session = ChatSessionFactory()
    url = reverse("admin:assignment_chatsession_changelist")

    manager_client.post(url, {"action": "close_sessions", "_selected_action": [session.pk]})

    session.refresh_from_db()
    assert session.status == ChatSession.Status.CLOSED
    assert Staff.objects.get(pk=cast["alice"].pk).open_sessions == 0
