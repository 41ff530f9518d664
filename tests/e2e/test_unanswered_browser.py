"""Nobody left unanswered, in a real browser: the manager switches the hand-overs on the
"Automatically assigning sessions" tab, the worker reassigns a session nobody answered, and
the session's admin page and the Fairness page show it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assignment import config, handover
from assignment.models import AssignmentSettings, ChatSession
from tests.factories import ChatSessionFactory, StaffFactory, make_working_time

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_manager_switches_reassigning_on_and_sees_the_reassignment(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    always = make_working_time()
    for name in ("Alice", "Bob"):
        StaffFactory(name=name, email=f"{name.lower()}@example.com", working_time=always)
    config.auto_assign_set(enabled=True)

    page.goto(f"{live_server.url}/admin/chat-assistant/automatic-assignment/")
    minutes = page.get_by_label("Reassign a session nobody answered within N minutes")
    minutes.fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    # The browser refuses it before sending (min 1); the server refuses it too (400), as the
    # page tests without a browser check.
    assert minutes.evaluate("input => input.validity.rangeUnderflow") is True
    screenshot("01-refused")
    assert AssignmentSettings.objects.get().reassign_unanswered_after_minutes is None

    page.get_by_label("Reassign a session nobody answered within N minutes").fill("10")
    page.get_by_label(
        "When a staff member's working hours end, return their unanswered sessions to the queue"
    ).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved the settings for unanswered sessions.")).to_be_visible()
    screenshot("02-saved")
    row = AssignmentSettings.objects.get()
    assert (row.reassign_unanswered_after_minutes, row.return_unanswered_at_shift_end) == (10, True)

    opened = timezone.now() - timedelta(minutes=30)
    session = ChatSessionFactory(created_at=opened, last_message_at=opened)
    handover.hand_over_due()
    session.refresh_from_db()
    assert session.assigned_staff.name == "Bob"

    page.goto(f"{live_server.url}/admin/assignment/chatsession/{session.pk}/change/")
    expect(page.get_by_text("reassigned: Alice did not answer for 30 min").first).to_be_visible()
    expect(page.get_by_text("Not answered yet")).to_be_visible()
    screenshot("03-session-page")

    ChatSession.objects.filter(pk=session.pk).update(
        first_response_at=opened + timedelta(minutes=25),
        first_response_staff=session.assigned_staff,
    )
    page.goto(f"{live_server.url}/admin/chat-assistant/reports/fairness/")
    bob = page.locator("tr", has_text="Bob").first
    expect(bob.locator(".ca-fair__response")).to_contain_text("25 min / 25 min")
    alice = page.locator("tr", has_text="Alice").first
    expect(alice.locator(".ca-fair__reassigned")).to_have_text("1")
    screenshot("04-fairness")
