"""The coverage maths: working hours in their own zones as instants, store days of 23, 24 and
25 hours, and the stretches covered by nobody or by one person. No database needed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from staff.coverage import (
    Interval,
    NonexistentLocalTime,
    RosterEntry,
    Shift,
    coverage_stretches,
    is_repeated,
    local_midnight,
    offset_changes,
    on_duty_intervals,
    on_duty_time,
    resolve_local,
    store_week,
    week_coverage,
    week_start,
)
from staff.schedule import WeeklyRange, is_on_duty, parse_hours

TAIPEI = ZoneInfo("Asia/Taipei")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # clocks change by 30 minutes
UTC_ZONE = ZoneInfo("UTC")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(text: str) -> datetime:
    """An aware UTC instant from "2026-01-05T01:00" (no offset in the text)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iv(start: str, end: str) -> Interval:
    return Interval(utc(start), utc(end))


def shift(zone: ZoneInfo, hours: dict) -> Shift:
    return Shift(zone, parse_hours(hours))


def one_person_week(
    working: Shift, *, monday: date, store_zone: ZoneInfo, staff: str = "ann"
) -> tuple:
    week = week_coverage(
        week_start=monday,
        store_zone=store_zone,
        shifts={"shift": working},
        roster=[RosterEntry(staff, "shift")],
    )
    return week, week.staff_intervals.get(staff, ())


def local_texts(stretches, zone: ZoneInfo) -> list[tuple[str, str]]:
    return [
        (f"{s.start.astimezone(zone):%H:%M}", f"{s.end.astimezone(zone):%H:%M}") for s in stretches
    ]


# --- Store days --------------------------------------------------------------------------------


def test_a_store_week_has_seven_local_days_from_midnight_to_midnight():
    days = store_week(start=date(2026, 1, 5), zone=TAIPEI)

    assert [day.date for day in days] == [date(2026, 1, 5) + timedelta(n) for n in range(7)]
    assert days[0].start == utc("2026-01-04T16:00")  # midnight in Taipei (+08:00)
    assert days[-1].end == utc("2026-01-11T16:00")
    assert all(day.hours == 24 for day in days)


def test_spring_forward_day_is_23_hours_and_fall_back_day_25_in_the_store_zone():
    spring = store_week(start=date(2026, 3, 23), zone=LONDON)
    autumn = store_week(start=date(2026, 10, 19), zone=LONDON)

    assert [day.hours for day in spring] == [24, 24, 24, 24, 24, 24, 23]
    assert [day.hours for day in autumn] == [24, 24, 24, 24, 24, 24, 25]
    assert spring[-1].start == utc("2026-03-29T00:00")  # 00:00 GMT
    assert spring[-1].end == utc("2026-03-29T23:00")  # 00:00 BST the next day
    assert autumn[-1].start == utc("2026-10-24T23:00")  # 00:00 BST
    assert autumn[-1].end == utc("2026-10-26T00:00")  # 00:00 GMT the next day


def test_the_same_dst_weeks_are_all_24_hour_days_in_utc_and_in_taipei():
    for zone in (UTC_ZONE, TAIPEI):
        for monday in (date(2026, 3, 23), date(2026, 10, 19)):
            assert {day.hours for day in store_week(start=monday, zone=zone)} == {24}


def test_a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump():
    # Chile springs forward at 00:00 -> 01:00 (2026-09-06): that day starts at 01:00 local.
    santiago = ZoneInfo("America/Santiago")

    start = local_midnight(date(2026, 9, 6), santiago)

    assert start == utc("2026-09-06T04:00")
    assert start.astimezone(santiago).hour == 1


def test_week_start_is_the_monday_of_the_week():
    assert week_start(date(2026, 3, 29)) == date(2026, 3, 23)  # a Sunday
    assert week_start(date(2026, 3, 23)) == date(2026, 3, 23)
    assert week_start(date(2026, 3, 25)) == date(2026, 3, 23)


def test_offset_changes_finds_the_transition_to_the_second():
    changes = offset_changes(LONDON, utc("2026-03-28T00:00"), utc("2026-03-30T00:00"))

    assert changes == [(utc("2026-03-29T01:00"), timedelta(0), timedelta(hours=1))]
    assert offset_changes(TAIPEI, utc("2026-03-28T00:00"), utc("2026-03-30T00:00")) == []


# --- On-duty intervals in each working time's own zone ------------------------------------------


def test_taipei_day_shift_seen_from_a_london_store_in_winter():
    taipei_day = shift(TAIPEI, {day: [["09:00", "18:00"]] for day in WEEKDAYS})

    week, intervals = one_person_week(taipei_day, monday=date(2026, 1, 5), store_zone=LONDON)

    # 09:00-18:00 in Taipei (+08:00) is 01:00-10:00 in London (GMT, +00:00).
    assert intervals == tuple(
        iv(f"2026-01-{d:02d}T01:00", f"2026-01-{d:02d}T10:00") for d in range(5, 10)
    )
    monday = week.days[0]
    assert local_texts(monday.gaps, LONDON) == [("00:00", "01:00"), ("10:00", "00:00")]
    assert local_texts(monday.single, LONDON) == [("01:00", "10:00")]
    assert [stretch.people for stretch in monday.single] == [frozenset({"ann"})]
    assert local_texts(week.days[5].gaps, LONDON) == [("00:00", "00:00")]  # Saturday


def test_taipei_day_shift_seen_from_a_london_store_in_summer_moves_an_hour():
    taipei_day = shift(TAIPEI, {day: [["09:00", "18:00"]] for day in WEEKDAYS})

    week, intervals = one_person_week(taipei_day, monday=date(2026, 6, 1), store_zone=LONDON)

    assert intervals[0] == iv("2026-06-01T01:00", "2026-06-01T10:00")
    assert local_texts(week.days[0].single, LONDON) == [("02:00", "11:00")]  # BST


def test_new_york_night_shift_past_midnight_lands_on_the_next_london_day():
    nights = shift(NEW_YORK, {day: [["22:00", "06:00"]] for day in ("sun", "mon", "tue", "wed")})

    week, intervals = one_person_week(nights, monday=date(2026, 1, 5), store_zone=LONDON)

    # Sunday 4 Jan 22:00 EST (before the week) is Monday 03:00 GMT (inside it); each night
    # belongs to the day it starts on in New York and lasts 8 hours.
    assert intervals == (
        iv("2026-01-05T03:00", "2026-01-05T11:00"),
        iv("2026-01-06T03:00", "2026-01-06T11:00"),
        iv("2026-01-07T03:00", "2026-01-07T11:00"),
        iv("2026-01-08T03:00", "2026-01-08T11:00"),
    )
    assert local_texts(week.days[0].gaps, LONDON) == [("00:00", "03:00"), ("11:00", "00:00")]
    assert week.days[4].single == ()  # Friday: Wednesday night ended on Thursday


def test_new_york_night_shift_over_its_own_spring_forward_is_seven_hours():
    # 2026-03-08: New York springs forward at 02:00 (EST -05:00 -> EDT -04:00).
    sat_night = parse_hours({"sat": [["22:00", "06:00"]]})

    intervals = on_duty_intervals(
        ranges=sat_night,
        zone=NEW_YORK,
        start=utc("2026-03-07T00:00"),
        end=utc("2026-03-09T00:00"),
    )

    assert intervals == (iv("2026-03-08T03:00", "2026-03-08T10:00"),)


def test_new_york_and_london_change_clocks_on_different_weeks():
    nights = shift(NEW_YORK, {"sun": [["22:00", "06:00"]]})

    _, before_us_change = one_person_week(nights, monday=date(2026, 3, 2), store_zone=LONDON)
    _, between_changes = one_person_week(nights, monday=date(2026, 3, 9), store_zone=LONDON)

    assert before_us_change == (iv("2026-03-02T03:00", "2026-03-02T11:00"),)  # EST, GMT
    assert between_changes == (iv("2026-03-09T02:00", "2026-03-09T10:00"),)  # EDT, GMT


# --- London's daylight-saving weeks from UTC and Taipei stores --------------------------------


SPRING_MONDAY = date(2026, 3, 23)  # the week of Sunday 2026-03-29
AUTUMN_MONDAY = date(2026, 10, 19)  # the week of Sunday 2026-10-25


def london(hours: dict) -> Shift:
    return shift(LONDON, hours)


def test_spring_forward_a_range_in_the_skipped_hour_never_occurs():
    skipped = london({"sun": [["01:00", "02:00"]]})

    for store_zone in (UTC_ZONE, TAIPEI):
        week, intervals = one_person_week(skipped, monday=SPRING_MONDAY, store_zone=store_zone)

        assert intervals == ()
        assert all(len(day.gaps) == 1 and day.single == () for day in week.days)


def test_spring_forward_a_range_across_the_skipped_hour_loses_it():
    across = london({"sun": [["00:30", "02:30"]]})

    week, intervals = one_person_week(across, monday=SPRING_MONDAY, store_zone=UTC_ZONE)

    # 00:30-01:00 GMT, then the clocks jump to 02:00 BST, then 02:00-02:30 BST: one hour.
    assert intervals == (iv("2026-03-29T00:30", "2026-03-29T01:30"),)
    assert local_texts(week.days[6].single, UTC_ZONE) == [("00:30", "01:30")]


def test_spring_forward_sunday_from_a_utc_store():
    sunday = london({"sun": [["00:00", "24:00"]]})

    week, intervals = one_person_week(sunday, monday=SPRING_MONDAY, store_zone=UTC_ZONE)

    assert intervals == (iv("2026-03-29T00:00", "2026-03-29T23:00"),)  # a 23-hour day
    assert local_texts(week.days[6].single, UTC_ZONE) == [("00:00", "23:00")]
    assert local_texts(week.days[6].gaps, UTC_ZONE) == [("23:00", "00:00")]


def test_spring_forward_sunday_from_a_taipei_store_runs_into_the_next_week():
    sunday = london({"sun": [["00:00", "24:00"]]})

    week, _ = one_person_week(sunday, monday=SPRING_MONDAY, store_zone=TAIPEI)
    next_week, _ = one_person_week(sunday, monday=SPRING_MONDAY + timedelta(7), store_zone=TAIPEI)

    # London's Sunday is 08:00 Sunday to 07:00 Monday in Taipei (+08:00 all year).
    assert local_texts(week.days[6].single, TAIPEI) == [("08:00", "00:00")]
    assert local_texts(next_week.days[0].single, TAIPEI) == [("00:00", "07:00")]
    assert next_week.days[0].single[0].start == utc("2026-03-29T16:00")


def test_fall_back_the_repeated_hour_counts_twice():
    repeated = london({"sun": [["01:15", "01:45"]]})

    _, intervals = one_person_week(repeated, monday=AUTUMN_MONDAY, store_zone=UTC_ZONE)

    # 01:15-01:45 BST, then again 01:15-01:45 GMT an hour later.
    assert intervals == (
        iv("2026-10-25T00:15", "2026-10-25T00:45"),
        iv("2026-10-25T01:15", "2026-10-25T01:45"),
    )


def test_fall_back_sunday_is_25_hours_on_duty():
    sunday = london({"sun": [["00:00", "24:00"]]})

    week, intervals = one_person_week(sunday, monday=AUTUMN_MONDAY, store_zone=LONDON)

    assert intervals == (iv("2026-10-24T23:00", "2026-10-26T00:00"),)
    assert week.days[6].day.hours == 25
    assert [stretch.duration for stretch in week.days[6].single] == [timedelta(hours=25)]
    assert week.days[6].gaps == ()


def test_fall_back_week_from_utc_and_taipei_stores():
    repeated = london({"sun": [["01:15", "01:45"]], "mon": [["09:00", "17:00"]]})

    utc_week, _ = one_person_week(repeated, monday=AUTUMN_MONDAY, store_zone=UTC_ZONE)
    taipei_week, _ = one_person_week(repeated, monday=AUTUMN_MONDAY, store_zone=TAIPEI)

    assert local_texts(utc_week.days[0].single, UTC_ZONE) == [("08:00", "16:00")]  # BST
    assert local_texts(utc_week.days[6].single, UTC_ZONE) == [
        ("00:15", "00:45"),
        ("01:15", "01:45"),
    ]
    assert local_texts(taipei_week.days[0].single, TAIPEI) == [("16:00", "00:00")]
    assert local_texts(taipei_week.days[6].single, TAIPEI) == [
        ("08:15", "08:45"),
        ("09:15", "09:45"),
    ]


LONDON_TRICKY = {"sat": [["22:00", "00:15"]], "sun": [["00:30", "02:30"], ["23:00", "01:30"]]}
NEW_YORK_TRICKY = {"sat": [["22:00", "01:45"]], "sun": [["01:50", "02:30"], ["03:00", "06:00"]]}
LORD_HOWE_TRICKY = {"sat": [["23:00", "00:45"]], "sun": [["01:00", "03:00"]]}


@pytest.mark.parametrize(
    ("zone", "hours", "start"),
    [
        (LONDON, LONDON_TRICKY, "2026-03-23"),
        (LONDON, LONDON_TRICKY, "2026-10-19"),
        (NEW_YORK, NEW_YORK_TRICKY, "2026-03-02"),
        (NEW_YORK, NEW_YORK_TRICKY, "2026-10-26"),
        (LORD_HOWE, LORD_HOWE_TRICKY, "2026-03-30"),  # back 30 min on 5 April
        (LORD_HOWE, LORD_HOWE_TRICKY, "2026-09-30"),  # forward 30 min on 4 October
        (TAIPEI, {day: [["09:00", "18:00"]] for day in WEEKDAYS}, "2026-03-23"),
    ],
)
def test_intervals_agree_with_is_on_duty_at_every_minute(zone, hours, start):
    ranges = parse_hours(hours)
    begin = utc(f"{start}T00:00")
    end = begin + timedelta(days=8)

    intervals = on_duty_intervals(ranges=ranges, zone=zone, start=begin, end=end)

    at = begin
    while at < end:
        inside = any(interval.start <= at < interval.end for interval in intervals)
        assert inside == is_on_duty(ranges, zone, at), at
        at += timedelta(minutes=5)


def test_on_duty_time_counts_real_hours_over_a_month_with_a_clock_change():
    every_day = parse_hours({day: [["00:00", "24:00"]] for day in (*WEEKDAYS, "sat", "sun")})

    total = on_duty_time(
        ranges=every_day, zone=LONDON, start=utc("2026-10-01T00:00"), end=utc("2026-11-01T00:00")
    )

    assert total == timedelta(days=31)


def test_on_duty_intervals_need_aware_instants():
    with pytest.raises(ValueError, match="aware"):
        on_duty_intervals(
            ranges=(WeeklyRange(0, 0, 60),),
            zone=LONDON,
            start=datetime(2026, 1, 5),
            end=datetime(2026, 1, 6),
        )


# --- Who covers the store --------------------------------------------------------------------


def test_gaps_and_single_cover_count_people_not_working_times():
    shifts = {
        "early": shift(UTC_ZONE, {"mon": [["09:00", "17:00"]]}),
        "late": shift(UTC_ZONE, {"mon": [["12:00", "20:00"]]}),
        "always": shift(UTC_ZONE, {"mon": [["00:00", "24:00"]]}),
        "nobody's": shift(UTC_ZONE, {"mon": [["17:00", "24:00"]]}),
    }
    roster = [
        RosterEntry("ann", "early"),
        RosterEntry("bob", "early"),
        RosterEntry("cat", "late"),
        RosterEntry("dan", "always", active=False),  # away: covers nothing
        RosterEntry("eve", None),  # no working time
    ]

    week = week_coverage(
        week_start=date(2026, 1, 5), store_zone=UTC_ZONE, shifts=shifts, roster=roster
    )

    monday = week.days[0]
    assert [(local_texts([s], UTC_ZONE)[0], s.people) for s in monday.stretches] == [
        (("00:00", "09:00"), frozenset()),
        (("09:00", "12:00"), frozenset({"ann", "bob"})),  # one working time, two people
        (("12:00", "17:00"), frozenset({"ann", "bob", "cat"})),
        (("17:00", "20:00"), frozenset({"cat"})),
        (("20:00", "00:00"), frozenset()),
    ]
    assert local_texts(monday.gaps, UTC_ZONE) == [("00:00", "09:00"), ("20:00", "00:00")]
    assert local_texts(monday.single, UTC_ZONE) == [("17:00", "20:00")]
    assert set(week.staff_intervals) == {"ann", "bob", "cat"}
    assert "always" in week.shift_intervals  # drawn for the away staff member
    assert "nobody's" not in week.shift_intervals  # nobody has it


def test_a_handover_between_two_single_people_is_two_stretches():
    stretches = coverage_stretches(
        on_duty={
            "ann": [iv("2026-01-05T08:00", "2026-01-05T12:00")],
            "bob": [iv("2026-01-05T12:00", "2026-01-05T16:00")],
        },
        start=utc("2026-01-05T00:00"),
        end=utc("2026-01-06T00:00"),
    )

    assert [(s.start.hour, s.end.hour, s.people) for s in stretches] == [
        (0, 8, frozenset()),
        (8, 12, frozenset({"ann"})),
        (12, 16, frozenset({"bob"})),
        (16, 0, frozenset()),
    ]


def test_stretches_partition_the_day_exactly():
    stretches = coverage_stretches(
        on_duty={"ann": [iv("2026-01-04T20:00", "2026-01-05T02:00")]},
        start=utc("2026-01-05T00:00"),
        end=utc("2026-01-06T00:00"),
    )

    assert stretches[0].start == utc("2026-01-05T00:00")
    assert stretches[-1].end == utc("2026-01-06T00:00")
    assert all(a.end == b.start for a, b in zip(stretches, stretches[1:], strict=False))
    assert [s.people for s in stretches] == [frozenset({"ann"}), frozenset()]


# --- Reading a wall-clock time in a zone ------------------------------------------------------


def test_resolve_local_refuses_a_skipped_time_and_picks_each_repeated_one():
    with pytest.raises(NonexistentLocalTime, match="does not occur in Europe/London"):
        resolve_local(datetime(2026, 3, 29, 1, 30), LONDON)

    first = resolve_local(datetime(2026, 10, 25, 1, 30), LONDON)
    second = resolve_local(datetime(2026, 10, 25, 1, 30, fold=1), LONDON)

    assert (first, second) == (utc("2026-10-25T00:30"), utc("2026-10-25T01:30"))
    assert is_repeated(datetime(2026, 10, 25, 1, 30), LONDON)
    assert not is_repeated(datetime(2026, 3, 29, 1, 30), LONDON)
    assert not is_repeated(datetime(2026, 10, 25, 3, 30), LONDON)
