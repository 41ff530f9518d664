"""Public holidays as closed days: the lookup (holidays package, offline data), its names
in the page's language, and ``manage.py add_public_holidays`` for Taiwan and Japan 2027."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assignment import config
from staff import holidays
from staff.models import WorkingTime, WorkingTimeException
from staff.services import exception_set
from tests.factories import StaffFactory, make_working_time

WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def add(*args: str) -> str:
    out = io.StringIO()
    call_command("add_public_holidays", *args, stdout=out)
    return out.getvalue()


def closed_days(working_time: WorkingTime) -> dict[str, str]:
    return {
        row.date.isoformat(): row.name
        for row in working_time.exceptions.order_by("date")
        if not row.ranges.exists()
    }


# --- The lookup ------------------------------------------------------------------------------


def test_taiwan_2027_in_its_own_language_by_default():
    found = {item.day: item.name for item in holidays.public_holidays(country="TW", year=2027)}
    assert found[date(2027, 1, 1)] == "中華民國開國紀念日"
    assert found[date(2027, 10, 10)] == "國慶日"
    assert date(2027, 3, 3) not in found


def test_japan_2027_in_english_or_japanese():
    english = holidays.public_holidays(country="jp", year=2027, language="en_US")
    japanese = holidays.public_holidays(country="JP", year=2027, language="ja")
    assert (english[1].day, english[1].name) == (date(2027, 1, 11), "Coming of Age Day")
    assert (japanese[1].day, japanese[1].name) == (date(2027, 1, 11), "成人の日")
    assert [item.day for item in english] == [item.day for item in japanese]


@pytest.mark.parametrize(
    ("country", "django_language", "expected"),
    [
        ("TW", "zh-hant", "zh_TW"),
        ("TW", "zh-hans", "zh_CN"),
        ("TW", "en-us", "en_US"),
        ("JP", "ja", "ja"),
        ("JP", "zh-hant", None),  # the country's default (Japanese) then
        ("JP", None, None),
    ],
)
def test_the_pages_language_maps_to_what_the_country_supports(country, django_language, expected):
    assert holidays.holiday_language(country, django_language) == expected


def test_a_subdivision_adds_its_own_holidays():
    national = {item.day for item in holidays.public_holidays(country="US", year=2027)}
    california = {
        item.day for item in holidays.public_holidays(country="US", subdiv="CA", year=2027)
    }
    assert date(2027, 3, 31) in california - national  # César Chávez Day
    assert ("CA", "California") in holidays.subdivisions("US")
    assert holidays.subdivisions("TW") == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "XX"}, "'XX' is not a country code the holidays data knows"),
        ({"country": "US", "subdiv": "ZZ"}, "'ZZ' is not a subdivision of US (known: AK, AL,"),
        ({"country": "TW", "year": 3000}, "The year must be between 1900 and 2100."),
    ],
)
def test_unknown_countries_subdivisions_and_years_are_named(kwargs, message):
    with pytest.raises(holidays.HolidayLookupError) as caught:
        holidays.public_holidays(**{"year": 2027, **kwargs})
    assert str(caught.value).startswith(message)


# --- The command -----------------------------------------------------------------------------


@pytest.fixture
def taipei_day() -> WorkingTime:
    return make_working_time("Taipei day", "Asia/Taipei", WEEKDAYS)


@pytest.mark.django_db
def test_taiwan_2027_becomes_closed_days_and_takes_staff_off_duty(taipei_day):
    StaffFactory(name="Alice", email="alice@example.com", working_time=taipei_day)
    config.auto_assign_set(enabled=True)
    expected = holidays.public_holidays(country="TW", year=2027, language="en_US")

    output = add("--working-time", "Taipei day", "--country", "TW", "--year", "2027")

    days = closed_days(taipei_day)
    assert list(days) == [item.day.isoformat() for item in expected]
    assert days["2027-10-11"] == "National Day (observed)"  # Monday: the page's English
    assert output.splitlines()[-1] == (
        f"Added {len(expected)} closed days of TW 2027 to 'Taipei day'; skipped 0 already there."
    )
    on_duty = io.StringIO()
    # Monday 11 October 2027, 10:00 in Taipei.
    at = datetime(2027, 10, 11, 2, 0, tzinfo=UTC).isoformat()
    call_command("on_duty", "--at", at, "--json", stdout=on_duty)
    assert json.loads(on_duty.getvalue()) == []


@pytest.mark.django_db
def test_names_follow_the_active_language(taipei_day):
    with translation.override("zh-hant"):
        add("--working-time", "Taipei day", "--country", "TW", "--year", "2027")

    assert closed_days(taipei_day)["2027-10-10"] == "國慶日"


@pytest.mark.django_db
def test_japan_2027_into_a_tokyo_working_time():
    tokyo = make_working_time("Tokyo", "Asia/Tokyo", WEEKDAYS)

    add("--working-time", "Tokyo", "--country", "JP", "--year", "2027")

    days = closed_days(tokyo)
    assert days["2027-01-11"] == "Coming of Age Day"
    assert len(days) == len(holidays.public_holidays(country="JP", year=2027))


@pytest.mark.django_db
def test_running_it_twice_adds_nothing_and_an_existing_exception_is_kept(taipei_day):
    exception_set(working_time=taipei_day, day="2027-12-31", hours=[["09:00", "15:00"]])
    first = add("--working-time", "Taipei day", "--country", "TW", "--year", "2027")
    count = WorkingTimeException.objects.count()

    second = add("--working-time", "Taipei day", "--country", "TW", "--year", "2027")

    assert "2027-12-31: skipped, already an exception" in first
    assert WorkingTimeException.objects.count() == count
    assert second.splitlines()[-1] == (
        f"Added 0 closed days of TW 2027 to 'Taipei day'; skipped {count} already there."
    )
    assert taipei_day.exceptions_config()["2027-12-31"] == [["09:00", "15:00"]]


@pytest.mark.django_db
def test_dry_run_lists_and_writes_nothing(taipei_day):
    output = add("--working-time", "Taipei day", "--country", "TW", "--year", "2027", "--dry-run")

    assert "2027-01-01 Founding Day of the Republic of China: would add (closed)" in output
    assert output.splitlines()[-1].startswith("Would add ")
    assert not WorkingTimeException.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--working-time", "Nope", "--country", "TW"],
            "No working time is called 'Nope' (there are: 'Taipei day').",
        ),
        (
            ["--working-time", "Taipei day", "--country", "XX"],
            "'XX' is not a country code the holidays data knows (e.g. TW, JP, US, GB).",
        ),
        (
            ["--working-time", "Taipei day", "--country", "GB", "--subdiv", "XYZ"],
            "'XYZ' is not a subdivision of GB (known: ENG, NIR, SCT, WLS).",
        ),
    ],
)
def test_bad_arguments_are_clear_errors_and_change_nothing(taipei_day, args, message):
    with pytest.raises(CommandError) as caught:
        add(*args, "--year", "2027")

    assert str(caught.value) == message
    assert not WorkingTimeException.objects.exists()
