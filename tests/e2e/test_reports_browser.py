"""The manager's reports in a real browser: the coverage week (with its navigation and a
daylight-saving week), next in line at a chosen time, and fairness; screenshots of each at
1280 px and the coverage week on a 390 px phone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db(transaction=True)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
LONDON = ZoneInfo("Europe/London")
REPORTS = "/admin/chat-assistant/reports"


@pytest.fixture
def store(settings):
    """The demo's story: three zones, eight staff (one away, one full, one without hours),
    and a month of assignments, uneven on purpose."""
    settings.STORE_TIME_ZONE = "Europe/London"
    taipei = make_working_time(
        "Taipei day", "Asia/Taipei", {day: [["09:00", "18:00"]] for day in WEEKDAYS}
    )
    london = make_working_time(
        "London day",
        "Europe/London",
        {**{day: [["08:00", "17:00"]] for day in WEEKDAYS}, "sat": [["10:00", "16:00"]]},
    )
    new_york = make_working_time(
        "New York night",
        "America/New_York",
        {day: [["22:00", "06:00"]] for day in ("sun", "mon", "tue", "wed", "thu")},
    )
    new_york_evening = make_working_time(
        "New York evening",
        "America/New_York",
        {day: [["18:00", "23:00"]] for day in ("sun", "mon", "tue", "wed", "thu")},
    )
    cast = [
        ("Mei Lin", taipei, {}),
        ("Kai Chen", taipei, {"max_open_sessions": 2}),
        ("Oliver Hughes", london, {}),
        ("Amelia Brown", london, {"active": False}),
        ("Harry Patel", london, {}),
        ("Maya Johnson", new_york, {}),
        ("Leo Garcia", new_york_evening, {}),
        ("Nora Smith", None, {}),
    ]
    people = {
        name: StaffFactory(
            name=name, email=f"{name.split()[0].lower()}@example.com", working_time=wt, **extra
        )
        for name, wt, extra in cast
    }
    now = timezone.now()
    Staff.objects.filter(pk=people["Kai Chen"].pk).update(
        open_sessions=2, last_assigned_at=now - timedelta(minutes=25)
    )
    Staff.objects.filter(pk=people["Oliver Hughes"].pk).update(
        last_assigned_at=now - timedelta(hours=3, minutes=5)
    )
    Staff.objects.filter(pk=people["Harry Patel"].pk).update(
        last_assigned_at=now - timedelta(minutes=12)
    )
    session = ChatSession.objects.create(customer_id="history", created_at=now, last_message_at=now)
    per_day = {"Mei Lin": 3, "Kai Chen": 2, "Oliver Hughes": 4, "Amelia Brown": 1}
    per_day |= {"Harry Patel": 3, "Maya Johnson": 2, "Leo Garcia": 1}
    kinds = ("automatic", "automatic", "automatic", "queue", "manual", "automatic", "queue")
    AssignmentEvent.objects.bulk_create(
        AssignmentEvent(
            session=session,
            staff=people[name],
            kind=kinds[(day + n) % len(kinds)],
            reason="history",
            created_at=now - timedelta(days=day, hours=2 + n),
        )
        for name, count in per_day.items()
        for day in range(30)
        for n in range(count + (day % 3 == 0))
    )
    AssignmentEvent.objects.create(
        session=session,
        staff=people["Kai Chen"],
        kind="returned",
        reason="returned",
        created_at=now - timedelta(days=2),
    )
    return people


def next_wednesday_at(clock: time) -> datetime:
    today = timezone.now().astimezone(LONDON).date()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    return datetime.combine(wednesday, clock)


def test_manager_reads_the_coverage_week(logged_in_manager, live_server, store, screenshot):
    page = logged_in_manager

    page.goto(f"{live_server.url}{REPORTS}/coverage/")

    expect(page.locator("h1")).to_have_text("Coverage")
    expect(page.locator(".breadcrumbs")).to_contain_text("Home › Reports › Coverage")
    expect(page.locator(".ca-week__label")).to_have_count(8)  # the cover lane + 7 with hours
    expect(page.locator(".ca-week__label.is-away")).to_contain_text("Amelia Brown")
    expect(page.locator(".ca-day")).to_have_count(7)
    expect(page.locator(".ca-day.is-today")).to_have_count(1)
    expect(page.get_by_text("Not on the grid (no working time): Nora Smith.")).to_be_visible()
    screenshot("coverage-this-week")

    # Pick the week London's clocks go back in with the date picker: Sunday is 25 hours.
    page.fill("#id_week", "2026-10-25")
    page.locator("input[value=Show]").click()
    page.wait_for_url(re.compile(r"week=2026-10-25"))
    sunday = page.locator(".ca-day").nth(6)
    expect(sunday.locator(".ca-day__name")).to_have_text("Sun 25")
    expect(sunday.locator(".ca-badge--change")).to_have_text("25 h")
    expect(sunday.locator(".ca-clockchange")).to_have_count(1)
    expect(page.locator(".ca-days")).to_contain_text("25 h: clocks go back 1 h at 02:00")
    # A 25-hour day is drawn wider than a 24-hour one: the hour has one width all week.
    monday_width = page.locator(".ca-day").nth(0).bounding_box()["width"]
    assert sunday.bounding_box()["width"] == pytest.approx(monday_width * 25 / 24, abs=1.5)
    screenshot("coverage-fall-back-week")

    page.get_by_role("link", name="Next week ›").click()
    page.wait_for_url(re.compile(r"week=2026-10-26"))
    expect(page.locator(".ca-lede")).to_contain_text("Mon 26 Oct 2026 – Sun 1 Nov 2026")


def test_coverage_week_on_a_phone(logged_in_manager, live_server, store, screenshot):
    page = logged_in_manager
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}{REPORTS}/coverage/?week=2026-03-29")

    expect(page.locator(".ca-day").nth(6).locator(".ca-badge--change")).to_have_text("23 h")
    # The grid scrolls sideways inside its frame; the names stay put.
    scroller = page.locator(".ca-week-scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    scroller.evaluate("el => { el.scrollLeft = 300 }")
    expect(page.locator(".ca-week__labels")).to_be_in_viewport()
    scroller.evaluate("el => { el.scrollLeft = 0 }")
    screenshot("coverage-phone-390")


def test_manager_sees_who_is_next_in_line(logged_in_manager, live_server, store, screenshot):
    page = logged_in_manager
    page.goto(f"{live_server.url}{REPORTS}/coverage/")

    page.locator(".ca-tabs").get_by_role("link", name="Next in line").click()
    expect(page.locator("h1")).to_have_text("Next in line")
    expect(page.locator(".ca-tabs a.active")).to_have_text("Next in line")

    # Wednesday 09:30 in London: the Taipei day (afternoon), the London day and the New York
    # night (early morning) are on duty; the New York evening shift has ended.
    at = next_wednesday_at(time(9, 30))
    page.fill("#id_at", at.strftime("%Y-%m-%dT%H:%M"))
    page.locator("input[value=Show]").click()
    page.wait_for_url(re.compile(r"at="))

    in_line = page.locator("tr.ca-line__row:not(.is-out)")
    expect(in_line).to_have_count(4)
    expect(in_line.nth(0)).to_contain_text("Mei Lin")  # never assigned, added first
    expect(in_line.nth(0).locator(".ca-badge--next")).to_have_text("next")
    expect(in_line.nth(0)).to_contain_text("Never assigned")
    expect(in_line.nth(1)).to_contain_text("Maya Johnson")
    expect(in_line.nth(2)).to_contain_text("Oliver Hughes")
    expect(in_line.nth(3)).to_contain_text("Harry Patel")
    expect(in_line.nth(3)).to_contain_text("Last assigned 12 min ago")
    out = page.locator("tr.ca-line__row.is-out")
    expect(out).to_have_count(4)
    expect(out.filter(has_text="Kai Chen")).to_contain_text("at capacity (2 of 2)")
    expect(out.filter(has_text="Amelia Brown")).to_contain_text("away")
    expect(out.filter(has_text="Leo Garcia")).to_contain_text("off duty")
    expect(out.filter(has_text="Nora Smith")).to_contain_text("no working time")
    expect(page.locator(".ca-lede")).to_contain_text(f"{at:%a} {at.day} {at:%b %Y}, 09:30")
    screenshot("next-in-line")


def test_manager_compares_fairness(logged_in_manager, live_server, store, screenshot):
    page = logged_in_manager

    page.goto(f"{live_server.url}{REPORTS}/fairness/")

    expect(page.locator("h1")).to_have_text("Fairness")
    periods = page.locator(".ca-period")
    expect(periods).to_have_count(2)
    expect(periods.nth(0).locator("h2")).to_contain_text("Last 7 days")
    expect(periods.nth(1).locator("h2")).to_contain_text("Last 30 days")
    oliver = periods.nth(0).locator("tr", has_text="Oliver Hughes")
    expect(oliver.locator(".ca-stack__part").first).to_be_visible()
    expect(oliver.locator(".ca-versus")).to_have_class(re.compile("is-high"))
    kai = periods.nth(0).locator("tr", has_text="Kai Chen")
    expect(kai).to_contain_text("1 returned to the queue")
    nora = periods.nth(0).locator("tr", has_text="Nora Smith")
    expect(nora).to_contain_text("no on-duty hours")
    screenshot("fairness")


def test_reports_follow_the_dark_theme(logged_in_manager, live_server, store, screenshot):
    page = logged_in_manager
    page.emulate_media(color_scheme="dark")

    page.goto(f"{live_server.url}{REPORTS}/coverage/?week={date(2026, 3, 29).isoformat()}")

    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    label_background = page.locator(".ca-week__labels").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background == label_background == "rgb(18, 18, 18)"
    screenshot("coverage-dark")
