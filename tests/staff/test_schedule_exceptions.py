"""Dated exceptions in the schedule maths: their ranges replace the weekday's on their date
(in the working time's zone), past-midnight tails on both sides of an exception date, the
daylight-saving days, and the overlap checks across both midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from staff import coverage
from staff.schedule import (
    DateException,
    ScheduleError,
    WeeklyRange,
    exceptions_to_config,
    is_on_duty,
    parse_exceptions,
    validate_exceptions,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
TAIPEI = ZoneInfo("Asia/Taipei")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def rng(weekday: int, start: str, end: str) -> WeeklyRange:
    return WeeklyRange(weekday, hhmm(start), hhmm(end))


def closed(day: str, name: str = "") -> DateException:
    return DateException(date.fromisoformat(day), (), name)


def special(day: str, *spans: tuple[str, str]) -> DateException:
    return DateException(
        date.fromisoformat(day), tuple((hhmm(start), hhmm(end)) for start, end in spans)
    )


def by_day(*exceptions: DateException) -> dict[date, DateException]:
    return {exception.day: exception for exception in exceptions}


WEEKDAYS_9_TO_18 = tuple(rng(day, "09:00", "18:00") for day in range(5))
EVERY_NIGHT = tuple(rng(day, "22:00", "02:00") for day in range(7))


def minutes_on(ranges, zone, exceptions, start: datetime, end: datetime) -> int:
    count, at = 0, start
    while at < end:
        count += is_on_duty(ranges, zone, at, exceptions)
        at += timedelta(minutes=1)
    return count


# --- Replacing a weekday ---------------------------------------------------------------------


def test_a_closed_date_is_off_duty_all_day_in_the_working_times_zone():
    christmas = by_day(closed("2026-12-25", "Christmas Day"))  # a Friday
    # 10:00 in Taipei on the 25th is 02:00Z: closed; the same UTC instant a day later is on.
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, utc("2026-12-25T02:00:00"), christmas) is False
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, utc("2026-12-24T02:00:00"), christmas) is True
    # 18 December 2026 is also a Friday: the weekly hours hold.
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, utc("2026-12-18T02:00:00"), christmas) is True


def test_the_date_is_the_working_times_local_date_not_utc():
    christmas = by_day(closed("2026-12-25"))
    # 2026-12-24T17:00Z is already Christmas 01:00 in Taipei; with round-the-clock hours:
    always = tuple(rng(day, "00:00", "24:00") for day in range(7))
    assert is_on_duty(always, TAIPEI, utc("2026-12-24T15:59:00"), christmas) is True  # 23:59
    assert is_on_duty(always, TAIPEI, utc("2026-12-24T16:00:00"), christmas) is False  # 00:00
    assert is_on_duty(always, TAIPEI, utc("2026-12-25T15:59:00"), christmas) is False  # 23:59
    assert is_on_duty(always, TAIPEI, utc("2026-12-25T16:00:00"), christmas) is True  # 26th


def test_special_hours_replace_the_weekdays_hours():
    new_years_eve = by_day(special("2026-12-31", ("09:00", "15:00")))  # a Thursday
    at = datetime(2026, 12, 31, tzinfo=TAIPEI)
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, at.replace(hour=14, minute=59), new_years_eve)
    assert not is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, at.replace(hour=15), new_years_eve)
    assert not is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, at.replace(hour=17), new_years_eve)


def test_special_hours_on_a_day_without_weekly_hours_open_it():
    saturday = by_day(special("2027-01-02", ("10:00", "14:00")))
    at = datetime(2027, 1, 2, 11, 0, tzinfo=TAIPEI)
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, at, saturday) is True
    assert is_on_duty(WEEKDAYS_9_TO_18, TAIPEI, at) is False


# --- Past midnight on both sides of an exception date ----------------------------------------


def test_the_previous_days_tail_still_runs_into_a_closed_date():
    closed_friday = by_day(closed("2026-12-25"))
    zone = ZoneInfo("UTC")
    # Thursday 22:00-02:00 belongs to Thursday: it runs into closed Friday until 02:00.
    assert is_on_duty(EVERY_NIGHT, zone, utc("2026-12-25T01:59:00"), closed_friday) is True
    assert is_on_duty(EVERY_NIGHT, zone, utc("2026-12-25T02:00:00"), closed_friday) is False
    # Friday's own 22:00 start does not happen, so neither does its tail into Saturday.
    assert is_on_duty(EVERY_NIGHT, zone, utc("2026-12-25T22:00:00"), closed_friday) is False
    assert is_on_duty(EVERY_NIGHT, zone, utc("2026-12-26T01:00:00"), closed_friday) is False
    # Saturday night is an ordinary night again.
    assert is_on_duty(EVERY_NIGHT, zone, utc("2026-12-26T22:00:00"), closed_friday) is True


def test_an_exceptions_own_tail_runs_into_the_next_date():
    late_eve = by_day(special("2026-12-31", ("18:00", "03:00")))
    zone = ZoneInfo("UTC")
    assert is_on_duty(WEEKDAYS_9_TO_18, zone, utc("2026-12-31T17:59:00"), late_eve) is False
    assert is_on_duty(WEEKDAYS_9_TO_18, zone, utc("2026-12-31T18:00:00"), late_eve) is True
    assert is_on_duty(WEEKDAYS_9_TO_18, zone, utc("2027-01-01T02:59:00"), late_eve) is True
    assert is_on_duty(WEEKDAYS_9_TO_18, zone, utc("2027-01-01T03:00:00"), late_eve) is False


def test_an_exception_tail_runs_into_another_closed_exception():
    # New Year's Eve open late, New Year's Day closed: the eve's tail still counts.
    both = by_day(special("2026-12-31", ("20:00", "02:00")), closed("2027-01-01"))
    zone = ZoneInfo("UTC")
    assert is_on_duty(EVERY_NIGHT, zone, utc("2027-01-01T01:30:00"), both) is True
    assert is_on_duty(EVERY_NIGHT, zone, utc("2027-01-01T22:30:00"), both) is False
    assert is_on_duty(EVERY_NIGHT, zone, utc("2027-01-02T01:30:00"), both) is False


# --- Daylight-saving days ----------------------------------------------------------------------


def test_new_york_spring_forward_day_closed_keeps_only_the_previous_nights_tail():
    # Sat 2026-03-07 22:00 EST to Sun 06:00 EDT is Saturday's; Sunday 8 March is closed.
    nights = (rng(SAT, "22:00", "06:00"), rng(SUN, "22:00", "06:00"))
    sunday_closed = by_day(closed("2026-03-08"))
    start, end = utc("2026-03-07T00:00:00"), utc("2026-03-10T00:00:00")
    # Saturday's shift lasts seven real hours (02:00-03:00 is skipped); Sunday's is gone.
    assert minutes_on(nights, NEW_YORK, sunday_closed, start, end) == 7 * 60
    assert minutes_on(nights, NEW_YORK, {}, start, end) == (7 + 8) * 60


def test_new_york_spring_forward_day_with_special_hours_through_the_gap():
    # 01:00-04:00 local on 8 March covers two real hours: 02:00-03:00 never occurs.
    gap_day = by_day(special("2026-03-08", ("01:00", "04:00")))
    assert (
        minutes_on((), NEW_YORK, gap_day, utc("2026-03-08T00:00:00"), utc("2026-03-09T00:00:00"))
        == 2 * 60
    )
    assert is_on_duty((), NEW_YORK, utc("2026-03-08T06:59:00"), gap_day) is True  # 01:59 EST
    assert is_on_duty((), NEW_YORK, utc("2026-03-08T07:00:00"), gap_day) is True  # 03:00 EDT
    assert is_on_duty((), NEW_YORK, utc("2026-03-08T08:00:00"), gap_day) is False  # 04:00 EDT


def test_new_york_fall_back_day_with_special_hours_counts_the_repeated_hour_twice():
    # 00:30-02:00 local on 1 November: 01:00-02:00 happens twice, so 2 h 30 min real time.
    repeated = by_day(special("2026-11-01", ("00:30", "02:00")))
    start, end = utc("2026-11-01T00:00:00"), utc("2026-11-02T00:00:00")
    assert minutes_on(WEEKDAYS_9_TO_18, NEW_YORK, repeated, start, end) == 150
    assert is_on_duty((), NEW_YORK, utc("2026-11-01T06:30:00"), repeated) is True  # 01:30 EST


def test_new_york_fall_back_saturday_night_tail_runs_into_a_closed_sunday():
    night = (rng(SAT, "22:00", "02:00"),)
    sunday_closed = by_day(closed("2026-11-01"))
    start, end = utc("2026-10-31T00:00:00"), utc("2026-11-02T00:00:00")
    # Saturday's shift belongs to Saturday: five real hours with the repeated hour.
    assert minutes_on(night, NEW_YORK, sunday_closed, start, end) == 5 * 60


def test_london_spring_forward_exception_day_and_the_weekday_a_week_later():
    # Sunday 29 March 2026 has hours only as an exception; 5 April has none.
    sunday = by_day(special("2026-03-29", ("00:30", "03:00")))
    # 00:30-01:00 GMT, then 02:00-03:00 BST: 1 h 30 min real time.
    assert (
        minutes_on((), LONDON, sunday, utc("2026-03-28T12:00:00"), utc("2026-03-30T00:00:00")) == 90
    )
    assert (
        minutes_on((), LONDON, sunday, utc("2026-04-04T12:00:00"), utc("2026-04-06T00:00:00")) == 0
    )


def test_coverage_intervals_agree_with_is_on_duty_with_exceptions_on_dst_days():
    ranges = (rng(SAT, "22:00", "02:00"), rng(SUN, "09:00", "17:00"), rng(MON, "00:00", "24:00"))
    for zone, day in ((NEW_YORK, "2026-03-08"), (NEW_YORK, "2026-11-01"), (LONDON, "2026-10-25")):
        sunday = date.fromisoformat(day)
        exceptions = by_day(
            DateException(sunday, ((hhmm("01:00"), hhmm("03:00")), (hhmm("23:00"), hhmm("01:30")))),
            DateException(sunday + timedelta(days=1), ()),
        )
        start = datetime.combine(sunday - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=4)
        intervals = coverage.on_duty_intervals(
            ranges=ranges, zone=zone, start=start, end=end, exceptions=exceptions
        )
        at = start
        while at < end:
            inside = any(item.start <= at < item.end for item in intervals)
            assert inside == is_on_duty(ranges, zone, at, exceptions), (zone, at)
            at += timedelta(minutes=15)


# --- Validation ------------------------------------------------------------------------------


def test_parse_exceptions_reads_the_configuration_form():
    parsed = parse_exceptions({"2027-01-01": [], "2026-12-31": [["09:00", "15:00"]]})
    assert parsed == {date(2027, 1, 1): (), date(2026, 12, 31): ((540, 900),)}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "Exceptions must be an object of YYYY-MM-DD dates to ranges."),
        ({"2026-02-30": []}, "'2026-02-30' is not a date of the form YYYY-MM-DD."),
        ({"20261231": []}, "'20261231' is not a date of the form YYYY-MM-DD."),
        ({"2026-12-31": [["9", "15:00"]]}, "2026-12-31: '9' is not a time of the form HH:MM."),
        (
            {"2026-12-31": [["09:00"]]},
            "2026-12-31: each range is a pair [start, end], not ['09:00'].",
        ),
    ],
)
def test_parse_exceptions_names_what_is_wrong(value, message):
    with pytest.raises(ScheduleError) as caught:
        parse_exceptions(value)
    assert str(caught.value) == message


def test_overlaps_are_checked_across_both_midnights_of_an_exception_date():
    sunday_night = (rng(SUN, "22:00", "02:00"), rng(MON, "09:00", "18:00"))
    # Monday 2026-12-28 starting at 01:00 meets Sunday's tail.
    with pytest.raises(ScheduleError, match=r"^2026-12-28 01:00-05:00 overlaps 2026-12-27 22:00"):
        validate_exceptions(sunday_night, [special("2026-12-28", ("01:00", "05:00"))])
    # Monday's exception at 02:00 just after the tail: fine.
    validate_exceptions(sunday_night, [special("2026-12-28", ("02:00", "05:00"))])
    # Sunday 2026-12-27 as an exception ending at 09:30 meets Monday's 09:00.
    with pytest.raises(ScheduleError, match=r"^2026-12-27 20:00-09:30 \(\+1\) overlaps 2026-12-28"):
        validate_exceptions(sunday_night, [special("2026-12-27", ("20:00", "09:30"))])
    # A closed Monday takes its hours away, so Sunday's exception may run long into it.
    validate_exceptions(
        sunday_night,
        [special("2026-12-27", ("20:00", "12:00")), closed("2026-12-28")],
    )


def test_exceptions_to_config_sorts_by_date_and_writes_closed_days_empty():
    assert exceptions_to_config(
        [special("2026-12-31", ("09:00", "15:00")), closed("2026-12-25")]
    ) == {
        "2026-12-25": [],
        "2026-12-31": [["09:00", "15:00"]],
    }
