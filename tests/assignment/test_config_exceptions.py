"""The ``exceptions`` key of the configuration file (docs/API.md, "Configuration file")."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assignment import config
from staff.models import WorkingTime, WorkingTimeException
from staff.services import exception_set
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

TAIPEI_DAY = {
    "name": "Taipei day",
    "timezone": "Asia/Taipei",
    "hours": {"mon": [["09:00", "18:00"]], "sun": [["22:00", "02:00"]]},
    "exceptions": {"2027-01-01": [], "2026-12-31": [["09:00", "15:00"]]},
}


def a_file(*working_times: dict) -> dict:
    return {"auto_assign": False, "working_times": list(working_times), "staff": []}


@pytest.fixture
def import_file(tmp_path: Path):
    def run(document: dict) -> str:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        out = io.StringIO()
        call_command("import_config", str(path), stdout=out)
        return out.getvalue()

    return run


def exported_exceptions(name: str) -> dict:
    out = io.StringIO()
    call_command("export_config", stdout=out)
    (entry,) = [wt for wt in json.loads(out.getvalue())["working_times"] if wt["name"] == name]
    return entry["exceptions"]


@pytest.fixture
def taipei_with_exceptions() -> WorkingTime:
    """Taipei day with Christmas closed (named) and New Year's Eve short, and Alice on it."""
    taipei = make_working_time("Taipei day", "Asia/Taipei", {"mon": [["09:00", "18:00"]]})
    exception_set(working_time=taipei, day="2026-12-25", hours=[], name="Christmas Day")
    exception_set(working_time=taipei, day="2026-12-31", hours=[["09:00", "15:00"]])
    StaffFactory(email="alice@example.com", name="Alice", working_time=taipei)
    return taipei


def test_the_contract_example_imports_and_exports_sorted_by_date(import_file):
    import_file(a_file(TAIPEI_DAY))

    assert exported_exceptions("Taipei day") == {
        "2026-12-31": [["09:00", "15:00"]],
        "2027-01-01": [],
    }
    rows = WorkingTimeException.objects.order_by("date")
    assert [(row.date.isoformat(), row.ranges.count()) for row in rows] == [
        ("2026-12-31", 1),
        ("2027-01-01", 0),
    ]


def test_export_writes_an_empty_object_when_there_are_none():
    make_working_time("Plain", "UTC", {"mon": [["09:00", "18:00"]]})

    assert config.export_config()["working_times"][0]["exceptions"] == {}


def test_an_old_file_without_exceptions_keeps_the_existing_ones(
    import_file, taipei_with_exceptions
):
    old_entry = {
        "name": "Taipei day",
        "timezone": "Asia/Taipei",
        "hours": {"tue": [["10:00", "19:00"]]},
    }

    import_file(a_file(old_entry))

    taipei = WorkingTime.objects.get(name="Taipei day")
    assert taipei.hours_config() == {"tue": [["10:00", "19:00"]]}
    assert exported_exceptions("Taipei day") == {
        "2026-12-25": [],
        "2026-12-31": [["09:00", "15:00"]],
    }
    assert taipei.exceptions.get(date="2026-12-25").name == "Christmas Day"


def test_an_old_file_creates_a_working_time_without_exceptions(import_file):
    import_file(a_file({"name": "New", "timezone": "UTC", "hours": {"mon": [["09:00", "18:00"]]}}))

    assert exported_exceptions("New") == {}


def test_the_key_replaces_the_exceptions_and_a_kept_date_keeps_its_name(
    import_file, taipei_with_exceptions
):
    entry = {**TAIPEI_DAY, "exceptions": {"2026-12-25": [["10:00", "12:00"]]}}

    import_file(a_file(entry))

    assert exported_exceptions("Taipei day") == {"2026-12-25": [["10:00", "12:00"]]}
    assert WorkingTimeException.objects.get().name == "Christmas Day"


def test_an_empty_object_removes_them_all(import_file, taipei_with_exceptions):
    import_file(a_file({**TAIPEI_DAY, "exceptions": {}}))

    assert exported_exceptions("Taipei day") == {}
    assert not WorkingTimeException.objects.exists()


# --- Errors: named like other entries, and nothing changes ------------------------------------


def rejected(import_file, document: dict) -> str:
    before = config.export_config()
    with pytest.raises(CommandError) as caught:
        import_file(document)
    assert config.export_config() == before
    return str(caught.value)


@pytest.mark.parametrize(
    ("exceptions", "message"),
    [
        (
            {"2026-13-01": []},
            "exceptions: '2026-13-01' is not a date of the form YYYY-MM-DD.",
        ),
        ({"31/12/2026": []}, "exceptions: '31/12/2026' is not a date of the form YYYY-MM-DD."),
        (
            {"2026-12-31": [["09:00", "24:30"]]},
            "exceptions: 2026-12-31: '24:30' is not a time of day (24:00 may only end a range).",
        ),
        (
            {"2026-12-31": [["09:00", "09:00"]]},
            "exceptions: 2026-12-31 09:00-09:00: a range cannot end as it starts.",
        ),
        (
            {"2026-12-31": [["09:00", "15:00"], ["14:00", "16:00"]]},
            "exceptions: 2026-12-31 14:00-16:00 overlaps 2026-12-31 09:00-15:00.",
        ),
        (
            {"2026-12-31": "closed"},
            "exceptions: 2026-12-31: expected a list of [start, end] ranges ([] is closed).",
        ),
        # 2027-01-03 is a Sunday: its exception's tail runs into Monday's weekly hours.
        (
            {"2027-01-03": [["20:00", "10:00"]]},
            "exceptions: 2027-01-03 20:00-10:00 (+1) overlaps "
            "2027-01-04 09:00-18:00 (the weekly hours of mon).",
        ),
        # 2026-12-28 is a Monday: Sunday's weekly tail runs into its exception.
        (
            {"2026-12-28": [["01:00", "05:00"]]},
            "exceptions: 2026-12-28 01:00-05:00 overlaps "
            "2026-12-27 22:00-02:00 (+1) (the weekly hours of sun).",
        ),
        (
            {"2026-12-30": [["22:00", "03:00"]], "2026-12-31": [["02:00", "05:00"]]},
            "exceptions: 2026-12-30 22:00-03:00 (+1) overlaps 2026-12-31 02:00-05:00.",
        ),
    ],
    ids=[
        "no such month",
        "not ISO",
        "bad time",
        "empty range",
        "overlap on the date",
        "not a list",
        "own tail into the next day",
        "previous day's tail",
        "two exceptions",
    ],
)
def test_a_bad_exception_names_the_entry_and_the_date(import_file, exceptions, message):
    existing = make_working_time("Other", "UTC", {"mon": [["09:00", "18:00"]]})
    exception_set(working_time=existing, day="2026-12-25", hours=[])
    # The first entry is valid; the error in the second must roll it back.
    first = {
        "name": "Other",
        "timezone": "UTC",
        "hours": {"tue": [["09:00", "18:00"]]},
        "exceptions": {},
    }

    text = rejected(import_file, a_file(first, {**TAIPEI_DAY, "exceptions": exceptions}))

    assert text == f"Nothing imported. working_times[1] ('Taipei day'): {message}"
    assert exported_exceptions("Other") == {"2026-12-25": []}


def test_exceptions_that_are_not_an_object_are_rejected(import_file):
    text = rejected(import_file, a_file({**TAIPEI_DAY, "exceptions": None}))

    assert text == (
        "Nothing imported. working_times[0] ('Taipei day'): "
        "exceptions: must be an object of YYYY-MM-DD dates."
    )


def test_new_weekly_hours_that_overlap_a_kept_exception_are_rejected(
    import_file, taipei_with_exceptions
):
    # 2026-12-31 (a Thursday) keeps 09:00-15:00; Wednesday's new tail would run into it.
    old_entry = {
        "name": "Taipei day",
        "timezone": "Asia/Taipei",
        "hours": {"wed": [["20:00", "10:00"]]},
    }

    text = rejected(import_file, a_file(old_entry))

    assert text == (
        "Nothing imported. working_times[0] ('Taipei day'): "
        "exceptions: 2026-12-31 09:00-15:00 overlaps "
        "2026-12-30 20:00-10:00 (+1) (the weekly hours of wed)."
    )
