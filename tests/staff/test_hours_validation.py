"""Validation of working times: the hours form, overlaps (past-midnight tails included),
time zones, names, and saving through the service."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from staff import services
from staff.models import WorkingRange, WorkingTime
from staff.schedule import (
    MINUTES_PER_DAY,
    ScheduleError,
    WeeklyRange,
    parse_hours,
    validate_ranges,
    zone_for,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS_9_TO_6 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def rng(weekday: int, start: str, end: str) -> WeeklyRange:
    return WeeklyRange(weekday, hhmm(start), hhmm(end))


def schedule_error(hours: object) -> str:
    with pytest.raises(ScheduleError) as caught:
        parse_hours(hours)
    return str(caught.value)


def validation_errors(**fields: object) -> dict[str, list[str]]:
    values = {"name": "Day shift", "timezone": "Asia/Taipei", "hours": WEEKDAYS_9_TO_6}
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        services.working_time_validate(**values)
    return caught.value.message_dict


def stored_ranges(working_time: WorkingTime) -> list[tuple[int, int, int]]:
    return list(
        WorkingRange.objects.filter(working_time=working_time)
        .order_by("weekday", "start_minute")
        .values_list("weekday", "start_minute", "end_minute")
    )


# --- parse_hours: accepted forms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "ranges"),
    [
        ({"mon": [["09:00", "18:00"]]}, (rng(MON, "09:00", "18:00"),)),
        ({"sun": [["00:00", "24:00"]]}, (WeeklyRange(SUN, 0, MINUTES_PER_DAY),)),
        ({"fri": [["22:00", "02:00"]]}, (rng(FRI, "22:00", "02:00"),)),
        # Missing days and empty lists both mean "not working that day".
        ({"mon": [], "tue": [["09:00", "12:00"]]}, (rng(TUE, "09:00", "12:00"),)),
        # Tuples are accepted as pairs too (callers in Python, not only JSON).
        ({"wed": [("09:00", "12:00")]}, (rng(WED, "09:00", "12:00"),)),
    ],
)
def test_parse_hours_accepts_valid_hours(hours, ranges):
    assert parse_hours(hours) == ranges


def test_adjacent_ranges_on_one_day_are_not_an_overlap():
    assert parse_hours({"mon": [["09:00", "12:00"], ["12:00", "18:00"]]}) == (
        rng(MON, "09:00", "12:00"),
        rng(MON, "12:00", "18:00"),
    )


def test_past_midnight_tail_ending_where_next_day_starts_is_not_an_overlap():
    assert parse_hours({"mon": [["22:00", "02:00"]], "tue": [["02:00", "05:00"]]}) == (
        rng(MON, "22:00", "02:00"),
        rng(TUE, "02:00", "05:00"),
    )


def test_sunday_tail_ending_where_monday_starts_is_not_an_overlap():
    assert parse_hours({"sun": [["22:00", "02:00"]], "mon": [["02:00", "10:00"]]}) == (
        rng(MON, "02:00", "10:00"),
        rng(SUN, "22:00", "02:00"),
    )


def test_whole_days_back_to_back_all_week_are_not_overlaps():
    hours = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert len(parse_hours(hours)) == 7


def test_range_ending_at_midnight_next_to_next_days_midnight_start_is_not_an_overlap():
    assert parse_hours({"fri": [["22:00", "00:00"]], "sat": [["00:00", "06:00"]]}) == (
        rng(FRI, "22:00", "00:00"),
        rng(SAT, "00:00", "06:00"),
    )


def test_day_ending_at_24_00_next_to_past_midnight_range_of_previous_day_is_fine():
    # Sun 00:00-24:00 and Sat 22:00-00:00 touch at Sunday midnight only.
    assert len(parse_hours({"sat": [["22:00", "00:00"]], "sun": [["00:00", "24:00"]]})) == 2


# --- parse_hours: errors ------------------------------------------------------------------


def test_range_ending_as_it_starts_is_refused():
    message = schedule_error({"mon": [["09:00", "09:00"]]})
    assert message == "mon 09:00-09:00: a range cannot end as it starts."


def test_range_00_00_to_00_00_is_refused():
    assert "cannot end as it starts" in schedule_error({"tue": [["00:00", "00:00"]]})


def test_overlapping_ranges_on_one_day_are_refused():
    message = schedule_error({"mon": [["09:00", "12:00"], ["11:00", "14:00"]]})
    assert message == "mon 11:00-14:00 overlaps mon 09:00-12:00."


def test_overlap_of_a_single_minute_is_refused():
    message = schedule_error({"mon": [["09:00", "12:00"], ["11:59", "14:00"]]})
    assert message == "mon 11:59-14:00 overlaps mon 09:00-12:00."


def test_range_inside_another_is_an_overlap():
    message = schedule_error({"wed": [["08:00", "20:00"], ["10:00", "11:00"]]})
    assert message == "wed 10:00-11:00 overlaps wed 08:00-20:00."


def test_range_given_twice_is_an_overlap():
    message = schedule_error({"thu": [["09:00", "12:00"], ["09:00", "12:00"]]})
    assert message == "thu 09:00-12:00 overlaps thu 09:00-12:00."


def test_past_midnight_tail_overlapping_next_days_range_is_refused():
    message = schedule_error({"mon": [["22:00", "02:00"]], "tue": [["01:00", "03:00"]]})
    assert message == "tue 01:00-03:00 overlaps mon 22:00-02:00 (+1)."


def test_sunday_tail_overlapping_mondays_midnight_range_is_refused():
    message = schedule_error({"sun": [["22:00", "02:00"]], "mon": [["00:00", "08:00"]]})
    assert "sun 22:00-02:00 (+1)" in message
    assert "mon 00:00-08:00" in message
    assert "overlaps" in message


def test_sunday_tail_overlapping_a_later_monday_range_is_refused():
    message = schedule_error({"sun": [["22:00", "02:00"]], "mon": [["01:00", "08:00"]]})
    assert message == "mon 01:00-08:00 overlaps sun 22:00-02:00 (+1)."


def test_past_midnight_range_overlapping_a_later_range_on_its_own_day_is_refused():
    message = schedule_error({"fri": [["22:00", "02:00"], ["23:00", "23:30"]]})
    assert message == "fri 23:00-23:30 overlaps fri 22:00-02:00 (+1)."


def test_whole_day_overlapping_previous_days_tail_is_refused():
    message = schedule_error({"sat": [["23:00", "01:00"]], "sun": [["00:00", "24:00"]]})
    assert message == "sun 00:00-24:00 overlaps sat 23:00-01:00 (+1)."


@pytest.mark.parametrize(
    "hours",
    [
        {},
        {"mon": []},
        {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    ],
)
def test_hours_with_no_range_at_all_are_refused(hours):
    assert schedule_error(hours) == "A working time needs at least one range of hours."


def test_validate_ranges_refuses_an_empty_list():
    with pytest.raises(ScheduleError, match="at least one range"):
        validate_ranges([])


@pytest.mark.parametrize("key", ["monday", "Mon", "MON", "mo", "1", ""])
def test_unknown_day_key_is_refused(key):
    message = schedule_error({key: [["09:00", "18:00"]]})
    assert message == f"{key!r} is not a day; use mon, tue, wed, thu, fri, sat, sun."


def test_non_string_day_key_is_refused():
    assert "is not a day" in schedule_error({0: [["09:00", "18:00"]]})


@pytest.mark.parametrize(
    ("start", "end", "fragment"),
    [
        ("9:00", "18:00", "'9:00' is not a time of the form HH:MM."),
        ("09:00", "6pm", "'6pm' is not a time of the form HH:MM."),
        ("09:00", "24:01", "'24:01' is not a time of day (24:00 may only end a range)."),
        ("24:00", "02:00", "'24:00' is not a time of day (24:00 may only end a range)."),
        ("09:60", "18:00", "'09:60' is not a time of the form HH:MM."),
        (900, "18:00", "900 is not a time of the form HH:MM."),
        ("09:00", None, "None is not a time of the form HH:MM."),
    ],
)
def test_bad_time_is_refused_naming_the_day(start, end, fragment):
    message = schedule_error({"tue": [[start, end]]})
    assert message == f"tue: {fragment}"


@pytest.mark.parametrize(
    "day_ranges",
    [
        "09:00-18:00",
        ["09:00", "18:00"],  # a pair where a list of pairs belongs
        {"start": "09:00", "end": "18:00"},
        None,
    ],
)
def test_day_value_that_is_not_a_list_of_pairs_is_refused(day_ranges):
    message = schedule_error({"wed": day_ranges})
    assert message.startswith("wed: ")


@pytest.mark.parametrize("day_ranges", ["09:00-18:00", {"start": "09:00"}, None, 9])
def test_day_value_that_is_not_a_list_is_refused(day_ranges):
    assert schedule_error({"wed": day_ranges}) == "wed: expected a list of [start, end] ranges."


@pytest.mark.parametrize(
    "pair",
    [
        ["09:00", "12:00", "18:00"],
        ["09:00"],
        [],
        "09:00",
        {"start": "09:00", "end": "18:00"},
        None,
    ],
)
def test_range_that_is_not_a_pair_is_refused(pair):
    message = schedule_error({"fri": [pair]})
    assert message == f"fri: each range is a pair [start, end], not {pair!r}."


@pytest.mark.parametrize("hours", [None, [], [["09:00", "18:00"]], "mon 09:00-18:00", 7])
def test_hours_that_are_not_an_object_are_refused(hours):
    assert schedule_error(hours) == "Hours must be an object with the keys mon..sun."


# --- zones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Asia/Taipei", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "UTC"],
)
def test_known_zones_are_accepted(name):
    assert zone_for(name).key == name


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "asia/taipei", "", "+08:00", "Asia/"])
def test_unknown_zone_is_refused(name):
    with pytest.raises(ScheduleError) as caught:
        zone_for(name)
    assert str(caught.value) == f"{name!r} is not an IANA time zone."


# --- working_time_validate ----------------------------------------------------------------


def test_working_time_validate_returns_clean_parts():
    name, zone, ranges = services.working_time_validate(
        name="  Taipei day  ",
        timezone="Asia/Taipei",
        hours={"mon": [["09:00", "18:00"]], "sun": [["22:00", "02:00"]]},
    )
    assert name == "Taipei day"
    assert zone == "Asia/Taipei"
    assert ranges == (rng(MON, "09:00", "18:00"), rng(SUN, "22:00", "02:00"))


def test_unknown_zone_is_a_timezone_error():
    errors = validation_errors(timezone="Asia/Atlantis")
    assert errors == {"timezone": ["'Asia/Atlantis' is not an IANA time zone."]}


@pytest.mark.parametrize("zone", [None, 8, ["Asia/Taipei"]])
def test_non_string_zone_is_a_timezone_error(zone):
    errors = validation_errors(timezone=zone)
    assert list(errors) == ["timezone"]
    assert "is not an IANA time zone" in errors["timezone"][0]


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_missing_name_is_a_name_error(name):
    assert validation_errors(name=name) == {"name": ["Give the working time a name."]}


def test_name_longer_than_the_column_is_a_name_error():
    errors = validation_errors(name="x" * 101)
    assert errors == {"name": ["A name has at most 100 characters."]}


def test_name_of_exactly_the_column_length_is_accepted():
    name, _, _ = services.working_time_validate(
        name="x" * 100, timezone="UTC", hours=WEEKDAYS_9_TO_6
    )
    assert name == "x" * 100


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": [["09:00", "09:00"]]}, "mon 09:00-09:00: a range cannot end as it starts."),
        (
            {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]},
            "mon 11:00-14:00 overlaps mon 09:00-12:00.",
        ),
        (
            {"mon": [["22:00", "02:00"]], "tue": [["01:00", "03:00"]]},
            "tue 01:00-03:00 overlaps mon 22:00-02:00 (+1).",
        ),
        ({}, "A working time needs at least one range of hours."),
        (
            {"monday": [["09:00", "18:00"]]},
            "'monday' is not a day; use mon, tue, wed, thu, fri, sat, sun.",
        ),
        ({"mon": [["9:00", "18:00"]]}, "mon: '9:00' is not a time of the form HH:MM."),
        (
            {"mon": [["24:00", "02:00"]]},
            "mon: '24:00' is not a time of day (24:00 may only end a range).",
        ),
        (
            {"mon": [["09:00", "12:00", "18:00"]]},
            "mon: each range is a pair [start, end], not ['09:00', '12:00', '18:00'].",
        ),
        ({"mon": "09:00-18:00"}, "mon: expected a list of [start, end] ranges."),
    ],
)
def test_bad_hours_are_an_hours_error(hours, message):
    assert validation_errors(hours=hours) == {"hours": [message]}


def test_every_bad_field_is_named_at_once():
    errors = validation_errors(name="", timezone="Nowhere/Land", hours={})
    assert set(errors) == {"name", "timezone", "hours"}
    assert errors["name"] == ["Give the working time a name."]
    assert errors["timezone"] == ["'Nowhere/Land' is not an IANA time zone."]
    assert errors["hours"] == ["A working time needs at least one range of hours."]


# --- working_time_save (database) ---------------------------------------------------------


@pytest.mark.django_db
def test_working_time_save_creates_the_working_time_and_its_ranges():
    working_time = services.working_time_save(
        name="Taipei day",
        timezone="Asia/Taipei",
        hours={
            "mon": [["09:00", "18:00"]],
            "sat": [["10:00", "14:00"], ["15:00", "19:00"]],
            "sun": [["22:00", "02:00"]],
        },
    )
    working_time.refresh_from_db()
    assert working_time.name == "Taipei day"
    assert working_time.timezone == "Asia/Taipei"
    assert stored_ranges(working_time) == [
        (MON, 540, 1080),
        (SAT, 600, 840),
        (SAT, 900, 1140),
        (SUN, 1320, 120),
    ]
    assert working_time.hours_config() == {
        "mon": [["09:00", "18:00"]],
        "sat": [["10:00", "14:00"], ["15:00", "19:00"]],
        "sun": [["22:00", "02:00"]],
    }
    assert working_time.summary() == (
        "Mon 09:00-18:00, Sat 10:00-14:00, 15:00-19:00, Sun 22:00-02:00 (+1)"
    )


@pytest.mark.django_db
def test_working_time_save_refuses_a_duplicate_name():
    services.working_time_save(name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6)
    with pytest.raises(ValidationError) as caught:
        services.working_time_save(
            name="  Day shift ", timezone="Europe/London", hours={"sat": [["10:00", "14:00"]]}
        )
    assert caught.value.message_dict == {
        "name": ["A working time called 'Day shift' exists already."]
    }
    assert WorkingTime.objects.count() == 1
    assert WorkingTime.objects.get().timezone == "UTC"
    assert WorkingRange.objects.count() == 5


@pytest.mark.django_db
def test_working_time_save_updating_keeps_its_own_name():
    working_time = services.working_time_save(
        name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6
    )
    updated = services.working_time_save(
        name="Day shift",
        timezone="Asia/Taipei",
        hours=WEEKDAYS_9_TO_6,
        working_time=working_time,
    )
    assert updated.pk == working_time.pk
    assert WorkingTime.objects.get().timezone == "Asia/Taipei"


@pytest.mark.django_db
def test_working_time_save_renaming_onto_another_name_is_refused():
    services.working_time_save(name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6)
    night = services.working_time_save(
        name="Night shift", timezone="UTC", hours={"mon": [["22:00", "02:00"]]}
    )
    with pytest.raises(ValidationError) as caught:
        services.working_time_save(
            name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6, working_time=night
        )
    assert caught.value.message_dict == {
        "name": ["A working time called 'Day shift' exists already."]
    }
    night.refresh_from_db()
    assert night.name == "Night shift"
    assert stored_ranges(night) == [(MON, 1320, 120)]


@pytest.mark.django_db
def test_working_time_save_update_replaces_the_old_ranges():
    working_time = services.working_time_save(
        name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6
    )
    other = services.working_time_save(
        name="Other", timezone="UTC", hours={"sun": [["10:00", "12:00"]]}
    )
    services.working_time_save(
        name="Day shift",
        timezone="UTC",
        # Monday 09:00 stays (same start, new end); the other days go.
        hours={"mon": [["09:00", "13:00"]], "sat": [["22:00", "02:00"]]},
        working_time=working_time,
    )
    assert stored_ranges(working_time) == [(MON, 540, 780), (SAT, 1320, 120)]
    assert working_time.hours_config() == {
        "mon": [["09:00", "13:00"]],
        "sat": [["22:00", "02:00"]],
    }
    # The other working time's ranges are untouched.
    assert stored_ranges(other) == [(SUN, 600, 720)]
    assert WorkingRange.objects.count() == 3


@pytest.mark.django_db
def test_working_time_save_with_bad_hours_changes_nothing():
    working_time = services.working_time_save(
        name="Day shift", timezone="UTC", hours=WEEKDAYS_9_TO_6
    )
    with pytest.raises(ValidationError) as caught:
        services.working_time_save(
            name="Renamed",
            timezone="Asia/Taipei",
            hours={"mon": [["22:00", "02:00"]], "tue": [["01:00", "03:00"]]},
            working_time=working_time,
        )
    assert caught.value.message_dict == {
        "hours": ["tue 01:00-03:00 overlaps mon 22:00-02:00 (+1)."]
    }
    working_time.refresh_from_db()
    assert (working_time.name, working_time.timezone) == ("Day shift", "UTC")
    assert len(stored_ranges(working_time)) == 5


@pytest.mark.django_db
def test_working_time_save_with_unknown_zone_creates_nothing():
    with pytest.raises(ValidationError) as caught:
        services.working_time_save(
            name="Day shift", timezone="Asia/Atlantis", hours=WEEKDAYS_9_TO_6
        )
    assert caught.value.message_dict == {"timezone": ["'Asia/Atlantis' is not an IANA time zone."]}
    assert WorkingTime.objects.count() == 0
    assert WorkingRange.objects.count() == 0
