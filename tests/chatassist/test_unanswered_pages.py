"""What the manager sees of unanswered sessions: the settings tab, the Fairness and Next in
line pages, and a session's admin page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from assignment import config, handover, policy
from assignment.models import AssignmentSettings, ChatSession
from assignment.reports.fairness import FirstResponses, fairness
from assignment.reports.next_in_line import queue_counts
from staff.models import Staff
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)
TAB = reverse("chat_assistant:automatic-assignment")
SAVE = reverse("chat_assistant:handover-settings")


def settings_row() -> AssignmentSettings:
    return AssignmentSettings.objects.get(pk=AssignmentSettings.SINGLETON_ID)


# --- The settings tab --------------------------------------------------------------------------


def test_the_tab_shows_the_three_settings_off_by_default(manager_client):
    page = manager_client.get(TAB).content.decode()

    assert "Reassign a session nobody answered within N minutes" in page
    assert "When a staff member&#x27;s working hours end, return their unanswered" in page
    assert "When a staff member is marked away, return their open sessions" in page
    row = AssignmentSettings.objects.filter(pk=1).first()
    assert row is None or (
        row.reassign_unanswered_after_minutes,
        row.return_unanswered_at_shift_end,
        row.return_open_sessions_when_away,
    ) == (None, False, False)


def test_saving_the_settings_stores_them_and_shows_them(manager_client):
    response = manager_client.post(
        SAVE,
        {"reassign_unanswered_after_minutes": "12", "return_unanswered_at_shift_end": "on"},
    )

    assert response.status_code == 302
    row = settings_row()
    assert (
        row.reassign_unanswered_after_minutes,
        row.return_unanswered_at_shift_end,
        row.return_open_sessions_when_away,
    ) == (12, True, False)
    page = manager_client.get(TAB).content.decode()
    assert 'name="reassign_unanswered_after_minutes"' in page and 'value="12"' in page


def test_an_empty_number_turns_reassigning_off(manager_client):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=30,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=True,
    )

    manager_client.post(SAVE, {"reassign_unanswered_after_minutes": ""})

    row = settings_row()
    assert (row.reassign_unanswered_after_minutes, row.return_open_sessions_when_away) == (
        None,
        False,
    )


@pytest.mark.parametrize("minutes", ["0", "1441", "ten", "2.5"])
def test_a_bad_number_is_refused_with_a_message_and_changes_nothing(manager_client, minutes):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=30,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )

    response = manager_client.post(
        SAVE, {"reassign_unanswered_after_minutes": minutes, "return_open_sessions_when_away": "on"}
    )

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    row = settings_row()
    assert (row.reassign_unanswered_after_minutes, row.return_open_sessions_when_away) == (
        30,
        False,
    )


def test_only_a_user_who_may_change_the_settings_may_save_them(agent_client):
    response = agent_client.post(SAVE, {"reassign_unanswered_after_minutes": "5"})

    assert response.status_code == 403
    assert not AssignmentSettings.objects.filter(reassign_unanswered_after_minutes=5).exists()


def test_saving_needs_a_post(manager_client):
    assert manager_client.get(SAVE).status_code == 405


# --- Fairness: first response times and reassignments -----------------------------------------


def answered_session(staff: Staff, *, created: datetime, after: timedelta) -> ChatSession:
    session = ChatSessionFactory(created_at=created, last_message_at=created)
    ChatSession.objects.filter(pk=session.pk).update(
        first_response_at=created + after, first_response_staff=staff
    )
    return session


def test_first_response_median_and_90th_percentile_per_staff_member_and_period(cast):
    alice, bob = cast["alice"], cast["bob"]
    recent = NOW - timedelta(days=2)
    for minutes in (1, 2, 3, 4, 5, 6, 7, 8, 9, 30):  # median 5.5 min, p90 9 min
        answered_session(alice, created=recent, after=timedelta(minutes=minutes))
    answered_session(alice, created=NOW - timedelta(days=20), after=timedelta(hours=2))
    answered_session(bob, created=recent, after=timedelta(seconds=40))

    week, month = fairness(now=NOW)

    rows = {row.staff.name: row for row in week.rows}
    assert rows["Alice"].responses == FirstResponses(
        10, timedelta(minutes=5, seconds=30), timedelta(minutes=9)
    )
    assert rows["Bob"].responses == FirstResponses(1, timedelta(seconds=40), timedelta(seconds=40))
    assert rows["Carol"].responses is None
    monthly = {row.staff.name: row for row in month.rows}["Alice"].responses
    assert monthly == FirstResponses(11, timedelta(minutes=6), timedelta(minutes=30))


def test_sessions_reassigned_away_are_counted_for_who_did_not_answer(cast):
    config.auto_assign_set(enabled=True)
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )
    long_ago = NOW - timedelta(days=10)
    old = [ChatSessionFactory(created_at=long_ago, customer_id=f"old-{n}") for n in range(2)]
    handover.hand_over_due(now=long_ago + timedelta(minutes=11))  # Alice's, Bob's move on
    for session in old:
        policy.session_close(session=session, now=long_ago + timedelta(minutes=12))
    ChatSessionFactory(created_at=NOW - timedelta(hours=1), customer_id="new")  # Bob's
    handover.hand_over_due(now=NOW)

    week, month = fairness(now=NOW)

    assert {row.staff.name: row.reassigned_away for row in week.rows} == {
        "Alice": 0,
        "Bob": 1,
        "Carol": 0,
    }
    assert {row.staff.name: row.reassigned_away for row in month.rows} == {
        "Alice": 1,
        "Bob": 2,
        "Carol": 0,
    }


def test_the_fairness_page_shows_response_times_and_reassignments(manager_client, cast):
    answered_session(cast["alice"], created=NOW - timedelta(days=1), after=timedelta(minutes=3))

    with time_machine.travel(NOW, tick=False):
        page = manager_client.get(reverse("chatassist_reports:fairness")).content.decode()

    assert "First response" in page and 'Reassigned<div class="ca-quiet">away</div>' in page
    assert "3 min / 3 min" in page


# --- Next in line: the waiting queue and unanswered sessions ---------------------------------


def test_next_in_line_counts_the_waiting_queue_and_unanswered_sessions(manager_client, cast):
    for index in range(3):
        ChatSessionFactory(customer_id=f"waiting-{index}")  # automatic assignment is off
    config.auto_assign_set(enabled=True)
    answered = ChatSessionFactory(customer_id="answered", created_at=NOW)
    ChatSessionFactory(customer_id="unanswered", created_at=NOW)
    answered.refresh_from_db()
    ChatSession.objects.filter(pk=answered.pk).update(last_staff_message_at=NOW)

    counts = queue_counts()
    page = manager_client.get(reverse("chatassist_reports:next_in_line")).content.decode()

    # First come, first served: the two new sessions served the two oldest waiting ones.
    assert (counts.waiting, counts.unanswered) == (3, 1)
    assert "<strong>3</strong> sessions waiting in the queue" in page
    assert "<strong>1</strong> assigned session not answered yet" in page


# --- A session's admin page ----------------------------------------------------------------------


def test_the_session_page_shows_the_first_response_and_the_reassignments(cast, admin_user):
    config.auto_assign_set(enabled=True)
    config.handover_settings_set(
        reassign_unanswered_after_minutes=10,
        return_unanswered_at_shift_end=False,
        return_open_sessions_when_away=False,
    )
    session = ChatSessionFactory(created_at=NOW)
    handover.hand_over_due(now=NOW + timedelta(minutes=10))
    ChatSession.objects.filter(pk=session.pk).update(
        first_response_at=NOW + timedelta(minutes=14), first_response_staff=cast["bob"]
    )
    client = Client()
    client.force_login(admin_user)

    page = client.get(
        reverse("admin:assignment_chatsession_change", args=[session.pk])
    ).content.decode()

    assert "14 min after the session opened" in page
    assert "reassigned: Alice did not answer for 10 min; never assigned" in page
