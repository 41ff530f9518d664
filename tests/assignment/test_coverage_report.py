"""``manage.py coverage_report``: gaps and single-person stretches of a week, per day, in the
store's time zone, as text and as JSON; bad arguments give a clear error and exit 1."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connections

from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff, WorkingTime
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("coverage_report", *args, stdout=out)
    return out.getvalue()


def report_json(*args: str) -> dict:
    return json.loads(run("--json", *args))


@pytest.fixture
def london_store(settings):
    settings.STORE_TIME_ZONE = "Europe/London"


@pytest.fixture
def taipei_day_team():
    """Mei and Kai on a Taipei day shift, Ann away on it, Nora without a working time."""
    taipei_day = make_working_time(
        "Taipei day", "Asia/Taipei", {day: [["09:00", "18:00"]] for day in WEEKDAYS}
    )
    return {
        "mei": StaffFactory(name="Mei", email="mei@example.com", working_time=taipei_day),
        "kai": StaffFactory(name="Kai", email="kai@example.com", working_time=taipei_day),
        "ann": StaffFactory(
            name="Ann", email="ann@example.com", working_time=taipei_day, active=False
        ),
        "nora": StaffFactory(name="Nora", email="nora@example.com", working_time=None),
    }


@pytest.fixture
def london_weekend():
    """Olly alone on Sunday in London, all day."""
    weekend = make_working_time("London Sunday", "Europe/London", {"sun": [["00:00", "24:00"]]})
    return StaffFactory(name="Olly", email="olly@example.com", working_time=weekend)


def test_text_report_lists_gaps_and_single_cover_per_day_in_the_store_zone(
    london_store, taipei_day_team, london_weekend
):
    lines = run("--week-of", "2026-10-21").splitlines()

    assert lines == [
        "Coverage Mon 2026-10-19 to Sun 2026-10-25, times in Europe/London:",
        "Mon 2026-10-19",
        "  nobody on duty:  00:00–02:00 (2 h), 11:00–24:00 (13 h)",
        "Tue 2026-10-20",
        "  nobody on duty:  00:00–02:00 (2 h), 11:00–24:00 (13 h)",
        "Wed 2026-10-21",
        "  nobody on duty:  00:00–02:00 (2 h), 11:00–24:00 (13 h)",
        "Thu 2026-10-22",
        "  nobody on duty:  00:00–02:00 (2 h), 11:00–24:00 (13 h)",
        "Fri 2026-10-23",
        "  nobody on duty:  00:00–02:00 (2 h), 11:00–24:00 (13 h)",
        "Sat 2026-10-24",
        "  nobody on duty:  00:00–24:00 (24 h)",
        "Sun 2026-10-25 (25 h day: clocks go back 1 h at 02:00)",
        "  only one person: 00:00 BST–24:00 (25 h) Olly <olly@example.com>",
    ]


def test_two_people_all_day_is_said_so(always_on):
    StaffFactory(working_time=always_on)
    StaffFactory(working_time=always_on)

    output = run("--week-of", "2026-01-07")

    assert output.count("at least two people on duty all day") == 7
    assert "nobody" not in output


def test_single_cover_names_the_person(settings, taipei_day_team):
    settings.STORE_TIME_ZONE = "Asia/Taipei"
    Staff.objects.filter(pk=taipei_day_team["kai"].pk).update(active=False)

    lines = run("--week-of", "2026-01-05").splitlines()

    assert lines[1:4] == [
        "Mon 2026-01-05",
        "  nobody on duty:  00:00–09:00 (9 h), 18:00–24:00 (6 h)",
        "  only one person: 09:00–18:00 (9 h) Mei <mei@example.com>",
    ]


def test_json_report_has_instants_with_the_store_offset(london_store, london_weekend):
    report = report_json("--week-of", "2026-03-29")

    assert report["store_time_zone"] == "Europe/London"
    assert (report["week_start"], report["week_end"]) == ("2026-03-23", "2026-03-29")
    assert [day["hours"] for day in report["days"]] == [24, 24, 24, 24, 24, 24, 23]
    monday, sunday = report["days"][0], report["days"][6]
    assert monday == {
        "date": "2026-03-23",
        "start": "2026-03-23T00:00:00+00:00",
        "end": "2026-03-24T00:00:00+00:00",
        "hours": 24.0,
        "clock_change": None,
        "exceptions": [],
        "gaps": [
            {
                "start": "2026-03-23T00:00:00+00:00",
                "end": "2026-03-24T00:00:00+00:00",
                "minutes": 1440,
            }
        ],
        "single": [],
    }
    assert sunday["clock_change"] == "clocks go forward 1 h at 01:00"
    assert sunday["end"] == "2026-03-30T00:00:00+01:00"
    assert sunday["gaps"] == []
    assert sunday["single"] == [
        {
            "start": "2026-03-29T00:00:00+00:00",
            "end": "2026-03-30T00:00:00+01:00",
            "minutes": 23 * 60,
            "staff": {"id": london_weekend.pk, "name": "Olly", "email": "olly@example.com"},
        }
    ]


def test_json_report_from_a_taipei_store_converts_each_working_time_zone(settings, london_weekend):
    settings.STORE_TIME_ZONE = "Asia/Taipei"

    report = report_json("--week-of", "2026-10-25")

    # London's 25-hour Sunday is 07:00 Sunday to 08:00 Monday in Taipei.
    sunday = report["days"][6]
    assert sunday["hours"] == 24
    assert sunday["single"][0]["start"] == "2026-10-25T07:00:00+08:00"
    assert sunday["single"][0]["end"] == "2026-10-26T00:00:00+08:00"


def test_default_week_is_this_week_in_the_store_zone(settings, london_weekend):
    settings.STORE_TIME_ZONE = "Asia/Taipei"

    # Sunday 29 March 20:00 UTC is already Monday 30 March 04:00 in Taipei.
    with time_machine.travel(datetime(2026, 3, 29, 20, 0, tzinfo=UTC), tick=False):
        report = report_json()

    assert report["week_start"] == "2026-03-30"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next week", "'next week' is not a date of the form YYYY-MM-DD."),
        ("2026-02-30", "'2026-02-30' is not a date of the form YYYY-MM-DD."),
        ("20260330", "'20260330' is not a date of the form YYYY-MM-DD."),
        ("", "'' is not a date of the form YYYY-MM-DD."),
        ("9999-12-31", "'9999-12-31' is outside the calendar this report can show."),
    ],
)
def test_bad_week_of_is_a_clear_error(value, message):
    with pytest.raises(CommandError) as error:
        run("--week-of", value)

    assert str(error.value) == f"--week-of: {message}"


def test_unknown_option_is_an_error():
    with pytest.raises(CommandError, match="unrecognized arguments: --month"):
        run("--month", "3")


def test_bad_argument_exits_with_status_1_and_changes_nothing(capsys, monkeypatch, always_on):
    # run_from_argv closes every connection when it ends; the test's transaction needs it.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    StaffFactory(working_time=always_on)
    before = (
        WorkingTime.objects.count(),
        Staff.objects.count(),
        ChatSession.objects.count(),
        AssignmentEvent.objects.count(),
    )

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "coverage_report", "--week-of", "soon"])

    assert exit_info.value.code == 1
    assert "--week-of: 'soon' is not a date of the form YYYY-MM-DD." in capsys.readouterr().err
    after = (
        WorkingTime.objects.count(),
        Staff.objects.count(),
        ChatSession.objects.count(),
        AssignmentEvent.objects.count(),
    )
    assert after == before


def test_help_explains_the_report(capsys):
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "coverage_report", "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert exit_info.value.code == 0
    assert "--week-of DATE" in help_text
    assert "nobody is on duty (gaps" in help_text
    assert "23 or 25 hours long" in help_text
    assert "Exits with status 1" in help_text


def test_query_count_does_not_grow_with_staff(django_assert_num_queries, always_on):
    StaffFactory.create_batch(5, working_time=always_on)
    with django_assert_num_queries(2):
        run("--week-of", "2026-01-05")

    StaffFactory.create_batch(45, working_time=make_working_time("Other", "Asia/Taipei"))
    with django_assert_num_queries(2):
        run("--week-of", "2026-01-05")
