"""Exceptions in the working-time pop-up, in headless Chromium: a manager marks Christmas
closed and New Year's Eve short, adds Taiwan's public holidays of the next year, and the
working time list, Coverage, Next in line and the next assignment all show it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from assignment import config
from assignment.models import AssignmentEvent
from staff import holidays
from staff.models import WorkingTime
from tests.factories import ChatSessionFactory, StaffFactory, make_working_time

pytestmark = pytest.mark.django_db(transaction=True)

TAIPEI = ZoneInfo("Asia/Taipei")


def coming_christmas() -> date:
    """The next 25 December (today's clock is real: the live server runs on it)."""
    today = timezone.now().astimezone(TAIPEI).date()
    christmas = date(today.year, 12, 25)
    return christmas if christmas > today else date(today.year + 1, 12, 25)


def in_taipei(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TAIPEI)


@pytest.fixture
def taipei_day(settings):
    settings.STORE_TIME_ZONE = "Asia/Taipei"
    working_time = make_working_time(
        "Taipei day",
        "Asia/Taipei",
        {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    StaffFactory(name="Alice Wong", email="alice@example.com", working_time=working_time)
    config.auto_assign_set(enabled=True)
    return working_time


def add_a_date(dialog, day: date, name: str, hours: tuple[str, str] | None = None) -> None:
    dialog.locator("input[name='new-exc-date']").fill(day.isoformat())
    dialog.locator("input[name='new-exc-name']").fill(name)
    if hours is not None:
        dialog.get_by_label("Other hours:").check()
        dialog.get_by_label("New exception, from").fill(hours[0])
        dialog.get_by_label("New exception, to").fill(hours[1])
    dialog.get_by_role("button", name="Add the date").click()
    expect(dialog.locator(f"[data-exception='{day.isoformat()}']")).to_be_visible()


def test_christmas_closed_new_years_eve_short_and_taiwans_holidays(
    logged_in_manager, live_server, screenshot, taipei_day
):
    page: Page = logged_in_manager
    christmas = coming_christmas()
    eve = christmas + timedelta(days=6)
    holiday_year = christmas.year + 1
    page.goto(f"{live_server.url}/admin/chat-assistant/")
    page.get_by_role("link", name="Edit Taipei day").click()
    dialog = page.locator("#ca-working-time-dialog")
    expect(dialog.locator("[data-no-exceptions]")).to_be_visible()

    add_a_date(dialog, christmas, "Christmas")
    add_a_date(dialog, eve, "New Year's Eve", hours=("09:00", "15:00"))
    eve_row = dialog.locator(f"[data-exception='{eve.isoformat()}']")
    expect(eve_row.locator("[data-exception-kind]")).to_have_text("Special hours")
    expect(eve_row.locator("input[name$='-start']")).to_have_value("09:00")
    screenshot("01-christmas-and-new-years-eve-added")

    # A mistake is shown next to the range, like the weekly hours.
    eve_row.locator("input[name$='-end']").fill("25:00")
    dialog.get_by_role("button", name="Save", exact=True).click()
    eve_row = dialog.locator(f"[data-exception='{eve.isoformat()}']")
    expect(eve_row.locator(".errorlist")).to_contain_text("'25:00' is not a time of the form")
    assert not taipei_day.exceptions.exists()
    eve_row.locator("input[name$='-end']").fill("15:00")

    dialog.locator("[data-holidays] summary").click()
    dialog.locator("select[name='holiday-country']").select_option("TW")
    dialog.locator("input[name='holiday-year']").fill(str(holiday_year))
    dialog.get_by_role("button", name="Show holidays").click()
    listed = dialog.locator(".ca-holiday-list li")
    expected = holidays.public_holidays(country="TW", year=holiday_year, language="en_US")
    expect(listed).to_have_count(len(expected))
    screenshot("02-taiwans-holidays-listed")
    dialog.get_by_role("button", name="Add the ticked as closed days").click()
    expect(dialog.locator(".ca-exception")).to_have_count(2 + len(expected))
    dialog.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("Working time “Taipei day” saved.")
    row = page.locator("#ca-working-times tbody tr", has_text="Taipei day")
    expect(row.locator(".ca-next-exception")).to_contain_text("closed (Christmas)")
    screenshot("03-the-list-shows-the-next-exception")
    saved = WorkingTime.objects.get(name="Taipei day").exceptions_config()
    assert saved[christmas.isoformat()] == []
    assert saved[eve.isoformat()] == [["09:00", "15:00"]]
    assert all(saved[item.day.isoformat()] == [] for item in expected)

    # Coverage marks the day; Next in line says why Alice is not in line.
    page.goto(
        f"{live_server.url}/admin/chat-assistant/reports/coverage/?week={christmas.isoformat()}"
    )
    badge = page.locator("[data-day-exception]")
    expect(badge).to_have_text("Christmas")
    expect(badge).to_have_attribute("title", "Taipei day: closed (Christmas)")
    expect(page.locator("[data-row-exception]")).to_have_text("Taipei day: closed (Christmas)")
    screenshot("04-coverage-marks-christmas")
    page.goto(
        f"{live_server.url}/admin/chat-assistant/reports/next-in-line/?at={christmas.isoformat()}T10:00"
    )
    expect(page.locator("body")).to_contain_text("closed today: Christmas")
    screenshot("05-next-in-line-closed-today")

    # The next assignment follows the same rule. On Christmas nobody is on duty: the
    # session waits. At 14:00 on the eve Alice is (special hours): the decision the new
    # session triggers serves the Christmas one first (first come, first served). At 16:00
    # the eve is over: nothing is decided.
    on_christmas = ChatSessionFactory(created_at=in_taipei(christmas, 10))
    on_christmas.refresh_from_db()
    assert on_christmas.assigned_staff is None
    on_the_eve = ChatSessionFactory(created_at=in_taipei(eve, 14))
    after_closing = ChatSessionFactory(created_at=in_taipei(eve, 16))
    for session in (on_christmas, on_the_eve, after_closing):
        session.refresh_from_db()
    assert on_christmas.assigned_staff is not None
    assert on_christmas.assigned_staff.name == "Alice Wong"
    assert on_the_eve.assigned_staff is None
    assert after_closing.assigned_staff is None
    assert AssignmentEvent.objects.count() == 1


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_exceptions_are_added_and_removed(
    logged_in_manager, live_server, screenshot, taipei_day
):
    page: Page = logged_in_manager
    christmas = coming_christmas()
    page.goto(f"{live_server.url}/admin/chat-assistant/")
    page.get_by_role("link", name="Edit Taipei day").click()
    dialog = page.locator("#ca-working-time-dialog")

    add_a_date(dialog, christmas, "Christmas")
    add_a_date(dialog, christmas + timedelta(days=1), "Boxing Day")
    dialog.get_by_role(
        "button", name=f"Remove the exception on {christmas + timedelta(days=1):%a} "
    ).click()
    expect(dialog.locator(".ca-exception")).to_have_count(1)
    screenshot("no-js-exception-added")
    dialog.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("Working time “Taipei day” saved.")
    assert WorkingTime.objects.get(name="Taipei day").exceptions_config() == {
        christmas.isoformat(): []
    }
