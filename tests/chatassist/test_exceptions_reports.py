"""Exceptions seen at a glance: the Coverage week and ``coverage_report`` name them on their
day, Next in line says why their staff are not in line, all from the same rule."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from staff.services import exception_set
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@pytest.fixture
def manager_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", None)
    client.force_login(user)
    return client


@pytest.fixture
def christmas_week(settings):
    """A Taipei store: Mei and Kai on Taipei day, Christmas closed, New Year's Eve short."""
    settings.STORE_TIME_ZONE = "Asia/Taipei"
    taipei = make_working_time(
        "Taipei day", "Asia/Taipei", {day: [["09:00", "18:00"]] for day in WEEKDAYS}
    )
    exception_set(working_time=taipei, day="2026-12-25", hours=[], name="Christmas Day")
    exception_set(
        working_time=taipei, day="2026-12-31", hours=[["09:00", "15:00"]], name="New Year's Eve"
    )
    StaffFactory(name="Mei Lin", email="mei@example.com", working_time=taipei)
    StaffFactory(name="Kai Chen", email="kai@example.com", working_time=taipei)
    return taipei


def report_json(week_of: str) -> dict:
    out = io.StringIO()
    call_command("coverage_report", "--week-of", week_of, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_coverage_report_json_names_the_exception_and_counts_the_closed_day_as_a_gap(
    christmas_week,
):
    days = {day["date"]: day for day in report_json("2026-12-21")["days"]}

    assert days["2026-12-25"]["exceptions"] == [
        {"working_time": "Taipei day", "name": "Christmas Day", "closed": True, "hours": []}
    ]
    assert [gap["minutes"] for gap in days["2026-12-25"]["gaps"]] == [24 * 60]
    assert days["2026-12-24"]["exceptions"] == []
    assert [gap["minutes"] for gap in days["2026-12-24"]["gaps"]] == [9 * 60, 6 * 60]


def test_coverage_report_text_shows_special_hours(christmas_week):
    out = io.StringIO()
    call_command("coverage_report", "--week-of", "2026-12-31", stdout=out)
    lines = out.getvalue().splitlines()

    thursday = lines.index("Thu 2026-12-31")
    assert lines[thursday + 1] == "  exception:       Taipei day: 09:00-15:00 (New Year's Eve)"
    assert lines[thursday + 2] == ("  nobody on duty:  00:00–09:00 (9 h), 15:00–24:00 (9 h)")


def test_the_coverage_week_marks_the_exception_days(manager_client, christmas_week):
    response = manager_client.get(reverse("chatassist_reports:coverage"), {"week": "2026-12-21"})

    days = {day.coverage.day.date.isoformat(): day for day in response.context["grid"].days}
    assert days["2026-12-25"].exception_texts == ["Taipei day: closed (Christmas Day)"]
    assert days["2026-12-25"].exception_badge == "Christmas Day"
    assert days["2026-12-24"].exception_texts == []
    page = response.content.decode()
    assert page.count("Taipei day: closed (Christmas Day)") >= 2  # the grid and the table


def test_next_in_line_says_closed_today_with_the_name(manager_client, christmas_week):
    # Friday 25 December 2026, 10:00 in Taipei.
    response = manager_client.get(
        reverse("chatassist_reports:next_in_line"), {"at": "2026-12-25T10:00"}
    )

    line = response.context["line"]
    assert line.in_line == []
    assert {entry.staff.name: entry.not_in_line for entry in line.not_in_line} == {
        "Mei Lin": ("closed today: Christmas Day",),
        "Kai Chen": ("closed today: Christmas Day",),
    }
    assert "closed today: Christmas Day" in response.content.decode()


def test_next_in_line_explains_special_hours_and_plain_off_duty(manager_client, christmas_week):
    def reasons(at: str) -> set[tuple[str, ...]]:
        response = manager_client.get(reverse("chatassist_reports:next_in_line"), {"at": at})
        return {entry.not_in_line for entry in response.context["line"].not_in_line}

    assert reasons("2026-12-31T16:00") == {("special hours today: New Year's Eve (09:00-15:00)",)}
    assert reasons("2026-12-31T20:00") == {("off duty",)}  # off by the weekly hours too
    assert reasons("2026-12-31T14:00") == set()  # both in line


def test_the_week_of_a_dst_change_marks_exceptions_in_their_own_zone(settings):
    settings.STORE_TIME_ZONE = "Europe/London"
    new_york = make_working_time("NY", "America/New_York", {"sun": [["09:00", "17:00"]]})
    StaffFactory(name="Nia", email="nia@example.com", working_time=new_york)
    exception_set(working_time=new_york, day="2026-11-01", hours=[["10:00", "12:00"]])

    days = {day["date"]: day for day in report_json("2026-11-01")["days"]}

    # 10:00-12:00 EST on the fall-back Sunday is 15:00-17:00 in London (GMT).
    sunday = days["2026-11-01"]
    assert sunday["exceptions"][0]["hours"] == [["10:00", "12:00"]]
    assert [(gap["start"], gap["end"]) for gap in sunday["gaps"]] == [
        ("2026-11-01T00:00:00+00:00", "2026-11-01T15:00:00+00:00"),
        ("2026-11-01T17:00:00+00:00", "2026-11-02T00:00:00+00:00"),
    ]
