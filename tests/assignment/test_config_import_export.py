"""import_config and export_config as docs/API.md's "Configuration file" describes them."""

from __future__ import annotations

import copy
import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assignment import config
from assignment.models import AssignmentSettings
from staff.models import Staff, WorkingRange, WorkingTime
from staff.services import exception_set
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

TOGGLE_RULE = (
    "Automatic assignment can only be on while at least one staff member has a working "
    "time. Give a staff member a working time first."
)

EMPTY_EXPORT = {
    "auto_assign": False,
    "reassign_unanswered_after_minutes": None,
    "return_unanswered_at_shift_end": False,
    "return_open_sessions_when_away": False,
    "working_times": [],
    "staff": [],
}

# A complete configuration, written in the order export_config prints it (working times
# by name, staff by email, days mon..sun, ranges by start), so export can be compared to it.
DOCUMENT = {
    "auto_assign": True,
    "reassign_unanswered_after_minutes": 15,
    "return_unanswered_at_shift_end": True,
    "return_open_sessions_when_away": False,
    "working_times": [
        {
            "name": "London late",
            "timezone": "Europe/London",
            "hours": {"fri": [["18:00", "24:00"]], "sun": [["22:00", "02:00"]]},
            "exceptions": {},
        },
        {
            "name": "Taipei day",
            "timezone": "Asia/Taipei",
            "hours": {
                "mon": [["09:00", "18:00"]],
                "tue": [["09:00", "18:00"]],
                "sat": [["10:00", "14:00"], ["15:00", "19:00"]],
            },
            "exceptions": {"2026-12-31": [["09:00", "15:00"]], "2027-01-01": []},
        },
    ],
    "staff": [
        {
            "email": "alice@example.com",
            "name": "Alice",
            "working_time": "Taipei day",
            "active": True,
            "max_open_sessions": None,
        },
        {
            "email": "bob@example.com",
            "name": "Bob",
            "working_time": "London late",
            "active": False,
            "max_open_sessions": 3,
        },
        {
            "email": "carol@example.com",
            "name": "Carol",
            "working_time": None,
            "active": True,
            "max_open_sessions": 1,
        },
    ],
}


def document() -> dict:
    return copy.deepcopy(DOCUMENT)


@pytest.fixture
def import_file(tmp_path: Path):
    """Write ``content`` (a document, or raw text) to a file and import it; returns stdout."""

    def run(content) -> str:
        path = tmp_path / "config.json"
        text = content if isinstance(content, str) else json.dumps(content)
        path.write_text(text, encoding="utf-8")
        out = io.StringIO()
        call_command("import_config", str(path), stdout=out)
        return out.getvalue()

    return run


def export() -> dict:
    out = io.StringIO()
    call_command("export_config", stdout=out)
    return json.loads(out.getvalue())


def auto_assign() -> bool:
    return AssignmentSettings.objects.get(pk=AssignmentSettings.SINGLETON_ID).auto_assign


def staff_row(email: str) -> tuple:
    member = Staff.objects.select_related("working_time").get(email=email)
    working_time = member.working_time.name if member.working_time else None
    return (member.name, working_time, member.active, member.max_open_sessions)


# --- Importing ----------------------------------------------------------------------------


def test_import_from_a_file_creates_working_times_staff_and_the_toggle(import_file):
    output = import_file(document())

    assert output == ("Imported: 2 working times created, 0 updated; 3 staff created, 0 updated.\n")
    assert sorted(WorkingTime.objects.values_list("name", "timezone")) == [
        ("London late", "Europe/London"),
        ("Taipei day", "Asia/Taipei"),
    ]
    taipei = WorkingTime.objects.get(name="Taipei day")
    assert taipei.hours_config() == DOCUMENT["working_times"][1]["hours"]
    london = WorkingTime.objects.get(name="London late")
    # 24:00 ends at midnight; 22:00-02:00 runs past midnight and belongs to Sunday.
    assert sorted(london.weekly_ranges.values_list("weekday", "start_minute", "end_minute")) == [
        (4, 18 * 60, 24 * 60),
        (6, 22 * 60, 2 * 60),
    ]
    assert staff_row("alice@example.com") == ("Alice", "Taipei day", True, None)
    assert staff_row("bob@example.com") == ("Bob", "London late", False, 3)
    assert staff_row("carol@example.com") == ("Carol", None, True, 1)
    assert auto_assign() is True


def test_import_from_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(document())))
    out = io.StringIO()

    call_command("import_config", "-", stdout=out)

    assert out.getvalue() == (
        "Imported: 2 working times created, 0 updated; 3 staff created, 0 updated.\n"
    )
    assert export() == DOCUMENT


def test_importing_the_same_file_twice_updates_instead_of_duplicating(import_file):
    import_file(document())

    output = import_file(document())

    assert output == ("Imported: 0 working times created, 2 updated; 0 staff created, 3 updated.\n")
    assert WorkingTime.objects.count() == 2
    assert Staff.objects.count() == 3
    assert WorkingRange.objects.count() == 6
    assert export() == DOCUMENT


def test_working_time_is_updated_by_name(import_file):
    existing = make_working_time("Taipei day", "Asia/Taipei", {"wed": [["08:00", "12:00"]]})
    alice = StaffFactory(email="alice@example.com", name="Alice", working_time=existing)

    import_file(document())

    updated = WorkingTime.objects.get(name="Taipei day")
    assert updated.pk == existing.pk
    assert updated.hours_config() == DOCUMENT["working_times"][1]["hours"]
    alice.refresh_from_db()
    assert alice.working_time_id == existing.pk


def test_staff_is_updated_by_email_ignoring_case(import_file):
    alice = StaffFactory(email="alice@example.com", name="Alice Old", active=False)
    doc = document()
    doc["staff"][0]["email"] = "ALICE@Example.COM"
    doc["staff"][0]["name"] = "Alice Chen"

    output = import_file(doc)

    assert output.endswith("0 updated; 2 staff created, 1 updated.\n")
    assert Staff.objects.count() == 3
    alice.refresh_from_db()
    assert (alice.email, alice.name, alice.working_time.name, alice.active) == (
        "alice@example.com",
        "Alice Chen",
        "Taipei day",
        True,
    )


def test_import_never_deletes_what_the_file_does_not_mention(import_file):
    night = make_working_time("Night", "UTC", {"mon": [["22:00", "06:00"]]})
    StaffFactory(email="dave@example.com", name="Dave", working_time=night)

    import_file(document())

    assert WorkingTime.objects.filter(pk=night.pk).exists()
    assert night.hours_config() == {"mon": [["22:00", "06:00"]]}
    assert staff_row("dave@example.com") == ("Dave", "Night", True, None)
    assert Staff.objects.count() == 4
    assert WorkingTime.objects.count() == 3


def test_keys_left_out_keep_an_existing_staff_members_values(import_file):
    night = make_working_time("Night", "UTC", {"mon": [["22:00", "06:00"]]})
    StaffFactory(
        email="bob@example.com", name="Bob", working_time=night, active=False, max_open_sessions=4
    )
    doc = document()
    doc["staff"] = [{"email": "bob@example.com", "name": "Robert"}]

    import_file(doc)

    assert staff_row("bob@example.com") == ("Robert", "Night", False, 4)


def test_keys_left_out_give_a_new_staff_member_the_defaults(import_file):
    doc = document()
    doc["staff"].append({"email": "erin@example.com", "name": "Erin"})

    import_file(doc)

    assert staff_row("erin@example.com") == ("Erin", None, True, None)


def test_staff_may_name_a_working_time_already_in_the_database(import_file):
    make_working_time("Night", "UTC", {"mon": [["22:00", "06:00"]]})
    doc = document()
    doc["staff"][2]["working_time"] = "Night"

    import_file(doc)

    assert staff_row("carol@example.com") == ("Carol", "Night", True, 1)


def test_auto_assign_may_go_on_when_the_same_file_gives_staff_a_working_time(import_file):
    assert auto_assign() is False

    import_file(document())

    assert auto_assign() is True


def test_import_can_switch_auto_assign_off(import_file):
    import_file(document())
    doc = document()
    doc["auto_assign"] = False

    import_file(doc)

    assert auto_assign() is False


# --- All or nothing: each broken rule names the entry and changes nothing ----------------------


@pytest.fixture
def existing() -> dict:
    """Configuration in the database before a bad import: Taipei day Mon 09-18, Alice, on."""
    taipei = make_working_time("Taipei day", "Asia/Taipei", {"mon": [["09:00", "18:00"]]})
    StaffFactory(email="alice@example.com", name="Alice", working_time=taipei)
    StaffFactory(email="dave@example.com", name="Dave", working_time=None, max_open_sessions=2)
    config.auto_assign_set(enabled=True)
    return snapshot()


def snapshot() -> dict:
    return {
        "working_times": WorkingTime.objects.count(),
        "staff": Staff.objects.count(),
        "ranges": WorkingRange.objects.count(),
        "auto_assign": auto_assign(),
        "taipei_hours": WorkingTime.objects.get(name="Taipei day").hours_config(),
        "config": config.export_config(),
    }


def rejected(import_file, content) -> str:
    with pytest.raises(CommandError) as caught:
        import_file(content)
    return str(caught.value)


@pytest.fixture
def assert_rejected(import_file, existing):
    """Import ``content``, expect ``message`` exactly, and check nothing changed."""

    def check(content, message: str, *, prefix_only: bool = False) -> None:
        text = rejected(import_file, content)
        if prefix_only:  # the entry and the field are fixed, the wording of the reason not
            assert text.startswith(message), text
        else:
            assert text == message
        after = snapshot()
        assert after == existing
        # The first working time in the file would have changed these hours.
        assert after["taipei_hours"] == {"mon": [["09:00", "18:00"]]}
        assert after["auto_assign"] is True

    return check


def bad_second_working_time(**changes) -> dict:
    doc = document()
    # The first entry is valid and would update Taipei day, so a rollback must undo it.
    doc["working_times"].reverse()
    doc["working_times"][1].update(changes)
    return doc


def bad_third_staff(**changes) -> dict:
    doc = document()
    doc["staff"][2].update(changes)
    return doc


def test_import_exits_non_zero(import_file, existing):
    doc = document()
    doc["surprise"] = 1

    with pytest.raises(CommandError) as caught:
        import_file(doc)

    assert caught.value.returncode == 1


def test_unknown_top_level_key_is_rejected(assert_rejected):
    doc = document()
    doc["surprise"] = 1

    assert_rejected(doc, "Nothing imported. the file: unknown key 'surprise'.")


def test_missing_top_level_key_is_rejected(assert_rejected):
    doc = document()
    del doc["staff"]

    assert_rejected(doc, "Nothing imported. the file: missing key 'staff'.")


def test_unknown_key_in_a_working_time_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(colour="blue"),
        "Nothing imported. working_times[1]: unknown key 'colour'.",
    )


def test_unknown_key_in_a_staff_entry_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(phone="123"),
        "Nothing imported. staff[2]: unknown key 'phone'.",
    )


def test_unknown_time_zone_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(timezone="Mars/Olympus"),
        "Nothing imported. working_times[1] ('London late'): "
        "timezone: 'Mars/Olympus' is not an IANA time zone.",
    )


def test_range_ending_as_it_starts_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(hours={"mon": [["09:00", "09:00"]]}),
        "Nothing imported. working_times[1] ('London late'): "
        "hours: mon 09:00-09:00: a range cannot end as it starts.",
    )


def test_overlapping_ranges_are_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(hours={"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}),
        "Nothing imported. working_times[1] ('London late'): "
        "hours: mon 11:00-13:00 overlaps mon 09:00-12:00.",
    )


def test_past_midnight_tail_overlapping_the_next_day_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(hours={"mon": [["22:00", "02:00"]], "tue": [["01:00", "05:00"]]}),
        "Nothing imported. working_times[1] ('London late'): "
        "hours: tue 01:00-05:00 overlaps mon 22:00-02:00 (+1).",
    )


def test_sunday_tail_running_into_monday_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(hours={"mon": [["01:00", "09:00"]], "sun": [["22:00", "02:00"]]}),
        "Nothing imported. working_times[1] ('London late'): "
        "hours: mon 01:00-09:00 overlaps sun 22:00-02:00 (+1).",
    )


def test_working_time_without_any_range_is_rejected(assert_rejected):
    assert_rejected(
        bad_second_working_time(hours={"mon": []}),
        "Nothing imported. working_times[1] ('London late'): "
        "hours: A working time needs at least one range of hours.",
    )


def test_staff_naming_a_missing_working_time_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(working_time="Moon shift"),
        "Nothing imported. staff[2] ('carol@example.com'): "
        "working_time 'Moon shift' does not exist.",
    )


@pytest.mark.parametrize("capacity", [0, -1, "2", True], ids=["zero", "negative", "text", "bool"])
def test_max_open_sessions_that_is_not_a_positive_integer_is_rejected(assert_rejected, capacity):
    assert_rejected(
        bad_third_staff(max_open_sessions=capacity),
        "Nothing imported. staff[2] ('carol@example.com'): "
        "max_open_sessions: max_open_sessions is empty (no limit) or a whole number ≥ 1.",
    )


def test_active_that_is_not_a_boolean_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(active="yes"),
        "Nothing imported. staff[2] ('carol@example.com'): active: active is true or false.",
    )


def test_bad_email_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(email="carol-at-example"),
        "Nothing imported. staff[2] ('carol-at-example'): "
        "email: 'carol-at-example' is not an email address.",
    )


def test_email_appearing_twice_in_the_file_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(email="ALICE@example.com"),
        "Nothing imported. staff[2] ('ALICE@example.com'): the email appears twice in the file.",
    )


# Text and numbers the database cannot store must be refused like any other broken rule,
# naming the entry, rather than crash the import (on PostgreSQL a NUL character, a lone
# surrogate, an over-long email or a capacity beyond its integer range raise DataError or
# UnicodeEncodeError; SQLite silently stores some of them).


def test_staff_name_with_a_nul_character_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(name="Ca\u0000rol"),
        "Nothing imported. staff[2] ('carol@example.com'): name: ",
        prefix_only=True,
    )


def test_staff_name_with_a_lone_surrogate_is_rejected(assert_rejected):
    assert_rejected(
        bad_third_staff(name="Ca\ud800rol"),
        "Nothing imported. staff[2] ('carol@example.com'): name: ",
        prefix_only=True,
    )


def test_working_time_name_with_a_nul_character_is_rejected(assert_rejected):
    doc = bad_second_working_time(name="London\u0000late")
    for entry in doc["staff"]:  # so that only the name can be what is wrong
        entry["working_time"] = "Taipei day"

    assert_rejected(
        doc,
        "Nothing imported. working_times[1] ('London\\x00late'): name: ",
        prefix_only=True,
    )


def test_email_longer_than_the_database_column_is_rejected(assert_rejected):
    long_email = "c" * 250 + "@example.com"  # a valid shape, but 262 characters

    assert_rejected(
        bad_third_staff(email=long_email),
        f"Nothing imported. staff[2] ({long_email!r}): email: ",
        prefix_only=True,
    )


@pytest.mark.parametrize("capacity", [2**31, 10**20], ids=["2**31", "10**20"])
def test_max_open_sessions_beyond_the_database_integer_range_is_rejected(assert_rejected, capacity):
    assert_rejected(
        bad_third_staff(max_open_sessions=capacity),
        "Nothing imported. staff[2] ('carol@example.com'): max_open_sessions: ",
        prefix_only=True,
    )


def test_auto_assign_with_no_staff_holding_a_working_time_is_rejected(assert_rejected):
    doc = document()
    for entry in doc["staff"]:
        entry["working_time"] = None

    assert_rejected(doc, f"Nothing imported. auto_assign: {TOGGLE_RULE}")


def test_toggle_rule_is_checked_on_an_empty_database_too(import_file):
    doc = document()
    for entry in doc["staff"]:
        entry["working_time"] = None

    message = rejected(import_file, doc)

    assert message == f"Nothing imported. auto_assign: {TOGGLE_RULE}"
    assert (WorkingTime.objects.count(), Staff.objects.count(), WorkingRange.objects.count()) == (
        0,
        0,
        0,
    )
    assert auto_assign() is False


def test_a_file_that_is_not_json_is_rejected(import_file, existing):
    message = rejected(import_file, "auto_assign: yes\n")

    assert message.startswith("Nothing imported. The file is not valid JSON: ")
    assert snapshot() == existing


def test_a_top_level_list_is_rejected(assert_rejected):
    assert_rejected([document()], "Nothing imported. the file: must be a JSON object.")


def test_a_missing_file_is_rejected(tmp_path, existing):
    path = tmp_path / "nowhere.json"

    with pytest.raises(CommandError) as caught:
        call_command("import_config", str(path), stdout=io.StringIO())

    assert str(caught.value).startswith(f"Nothing imported. Cannot read {path}: ")
    assert snapshot() == existing


# --- Export, then import into an empty database ---------------------------------------------


def empty_the_database() -> None:
    Staff.objects.all().delete()
    WorkingTime.objects.all().delete()
    AssignmentSettings.objects.all().delete()


def test_export_prints_the_whole_configuration(import_file):
    import_file(document())

    assert export() == DOCUMENT


def test_export_of_an_empty_database():
    assert export() == EMPTY_EXPORT


def test_export_then_import_into_an_empty_database_gives_the_same_configuration(import_file):
    # Built through the services, not the import, so the round trip is not checked by itself.
    night = make_working_time(
        "Night", "Europe/London", {"sun": [["22:00", "02:00"]], "mon": [["02:00", "24:00"]]}
    )
    exception_set(working_time=night, day="2026-12-31", hours=[["18:00", "03:00"]])
    exception_set(working_time=night, day="2026-12-27", hours=[], name="Boxing Day (observed)")
    day = make_working_time("Day", "Asia/Taipei", {"sat": [["15:00", "19:00"], ["10:00", "14:00"]]})
    StaffFactory(email="zed@example.com", name="Zed", working_time=night, max_open_sessions=2)
    StaffFactory(email="amy@example.com", name="Amy", working_time=day, active=False)
    StaffFactory(email="kim@example.com", name="Kim", working_time=None)
    config.auto_assign_set(enabled=True)
    out = io.StringIO()
    call_command("export_config", stdout=out)
    exported = out.getvalue()
    before = json.loads(exported)

    empty_the_database()
    assert export() == EMPTY_EXPORT
    import_file(exported)

    assert export() == before
    assert before["auto_assign"] is True
    assert before["working_times"][1] == {
        "name": "Night",
        "timezone": "Europe/London",
        "hours": {"mon": [["02:00", "24:00"]], "sun": [["22:00", "02:00"]]},
        "exceptions": {"2026-12-27": [], "2026-12-31": [["18:00", "03:00"]]},
    }
    assert before["working_times"][0]["exceptions"] == {}
    assert [entry["email"] for entry in before["staff"]] == [
        "amy@example.com",
        "kim@example.com",
        "zed@example.com",
    ]


# --- The hand-over keys (optional on import, always exported) --------------------------------


def handover_row() -> tuple[int | None, bool, bool]:
    row = AssignmentSettings.objects.get()
    return (
        row.reassign_unanswered_after_minutes,
        row.return_unanswered_at_shift_end,
        row.return_open_sessions_when_away,
    )


def test_import_sets_the_handover_keys_the_file_gives(import_file):
    import_file(document())

    assert handover_row() == (15, True, False)


def test_a_file_without_the_handover_keys_keeps_their_values(import_file):
    import_file(document())
    without = {key: value for key, value in document().items() if key not in config.HANDOVER_KEYS}

    import_file(without)

    assert handover_row() == (15, True, False)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("reassign_unanswered_after_minutes", 0, "from 1 to 1440"),
        ("reassign_unanswered_after_minutes", 1441, "from 1 to 1440"),
        ("reassign_unanswered_after_minutes", "15", "from 1 to 1440"),
        ("reassign_unanswered_after_minutes", True, "from 1 to 1440"),
        ("reassign_unanswered_after_minutes", 2.5, "from 1 to 1440"),
        ("return_unanswered_at_shift_end", "yes", "must be true or false"),
        ("return_open_sessions_when_away", None, "must be true or false"),
    ],
)
def test_a_bad_handover_value_is_refused_and_changes_nothing(import_file, key, value, message):
    error = rejected(import_file, {**document(), key: value})

    assert error.startswith(f"Nothing imported. {key}: ")
    assert message in error
    assert not WorkingTime.objects.exists()
    assert not AssignmentSettings.objects.filter(reassign_unanswered_after_minutes=15).exists()


@pytest.mark.parametrize("minutes", [1, 1440, None])
def test_the_reassign_minutes_bounds_and_null_are_accepted(import_file, minutes):
    import_file({**document(), "reassign_unanswered_after_minutes": minutes})

    assert handover_row()[0] == minutes
    assert export()["reassign_unanswered_after_minutes"] == minutes
