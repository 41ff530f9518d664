"""The pure schedule maths: wall-clock hours in the working time's own zone, [start, end)
ranges, past-midnight tails and daylight-saving transitions. No database needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from staff.schedule import (
    DAY_KEYS,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    ScheduleError,
    WeeklyRange,
    hours_to_config,
    is_on_duty,
    parse_clock,
    parse_hours,
    summarize_hours,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

TAIPEI = ZoneInfo("Asia/Taipei")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
UTC_ZONE = ZoneInfo("UTC")


def utc(text: str) -> datetime:
    """An aware UTC instant from "2026-01-05T01:00:00" (no offset in the text)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def rng(weekday: int, start: str, end: str) -> WeeklyRange:
    return WeeklyRange(weekday, hhmm(start), hhmm(end))


def minutes_on_duty(
    ranges: tuple[WeeklyRange, ...], zone: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Every whole UTC minute in [start, end) that is on duty."""
    found = []
    at = start
    while at < end:
        if is_on_duty(ranges, zone, at):
            found.append(at)
        at += timedelta(minutes=1)
    return found


def as_spans(instants: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive minutes folded into [first, last + 1 minute) spans."""
    spans: list[tuple[datetime, datetime]] = []
    for at in instants:
        if spans and spans[-1][1] == at:
            spans[-1] = (spans[-1][0], at + timedelta(minutes=1))
        else:
            spans.append((at, at + timedelta(minutes=1)))
    return spans


# --- Wall-clock hours are read in the working time's own zone ---------------------------

TAIPEI_MON_DAY = (rng(MON, "09:00", "18:00"),)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Monday 2026-01-05; Taipei is UTC+8 all year, so 09:00 local is 01:00Z.
        (utc("2026-01-05T00:59:59"), False),
        (utc("2026-01-05T01:00:00"), True),
        (utc("2026-01-05T01:00:59"), True),
        (utc("2026-01-05T09:59:59"), True),  # 17:59:59 Taipei: last second of the range
        (utc("2026-01-05T10:00:00"), False),  # 18:00 Taipei: the end is excluded
        # Monday in UTC but already Tuesday 07:00 in Taipei.
        (utc("2026-01-05T23:00:00"), False),
        # 09:30 on Sunday in Taipei: right wall clock, wrong weekday.
        (utc("2026-01-04T01:30:00"), False),
        # Tuesday 09:30 Taipei: same wall clock, wrong weekday.
        (utc("2026-01-06T01:30:00"), False),
    ],
)
def test_taipei_monday_day_shift_is_judged_on_taipei_wall_clock(at, expected):
    assert is_on_duty(TAIPEI_MON_DAY, TAIPEI, at) is expected


def test_taipei_weekday_comes_from_local_date_not_utc_date():
    # Monday 06:00-09:00 in Taipei is Sunday 22:00Z - Monday 01:00Z.
    early_monday = (rng(MON, "06:00", "09:00"),)
    assert is_on_duty(early_monday, TAIPEI, utc("2026-01-04T22:00:00")) is True  # Sunday UTC
    assert is_on_duty(early_monday, TAIPEI, utc("2026-01-04T21:59:00")) is False
    assert is_on_duty(early_monday, TAIPEI, utc("2026-01-05T00:59:00")) is True
    assert is_on_duty(early_monday, TAIPEI, utc("2026-01-05T01:00:00")) is False


def test_instant_given_with_explicit_offset_is_the_same_instant():
    # 09:00+08:00 and 01:00Z are the same instant; 09:00+00:00 is eight hours later.
    plus_eight = timezone(timedelta(hours=8))
    assert is_on_duty(TAIPEI_MON_DAY, TAIPEI, datetime(2026, 1, 5, 9, 0, tzinfo=plus_eight))
    assert not is_on_duty(
        TAIPEI_MON_DAY, TAIPEI, datetime(2026, 1, 5, 8, 59, 59, tzinfo=plus_eight)
    )
    minus_five = timezone(timedelta(hours=-5))
    # 2026-01-04 20:00-05:00 = 2026-01-05 01:00Z = Monday 09:00 Taipei.
    assert is_on_duty(TAIPEI_MON_DAY, TAIPEI, datetime(2026, 1, 4, 20, 0, tzinfo=minus_five))
    assert not is_on_duty(TAIPEI_MON_DAY, TAIPEI, datetime(2026, 1, 4, 19, 59, tzinfo=minus_five))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # London in January is GMT (UTC+0): 09:00-17:00 local is 09:00Z-17:00Z.
        (utc("2026-01-05T08:59:00"), False),
        (utc("2026-01-05T09:00:00"), True),
        (utc("2026-01-05T16:59:00"), True),
        (utc("2026-01-05T17:00:00"), False),
        # London in July is BST (UTC+1): 09:00-17:00 local is 08:00Z-16:00Z.
        (utc("2026-07-06T07:59:00"), False),
        (utc("2026-07-06T08:00:00"), True),
        (utc("2026-07-06T15:59:00"), True),
        (utc("2026-07-06T16:00:00"), False),
    ],
)
def test_london_hours_follow_gmt_in_winter_and_bst_in_summer(at, expected):
    assert is_on_duty((rng(MON, "09:00", "17:00"),), LONDON, at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # New York in January is EST (UTC-5): 09:00-17:00 local is 14:00Z-22:00Z.
        (utc("2026-01-05T13:59:00"), False),
        (utc("2026-01-05T14:00:00"), True),
        (utc("2026-01-05T21:59:00"), True),
        (utc("2026-01-05T22:00:00"), False),
        # New York in July is EDT (UTC-4): 09:00-17:00 local is 13:00Z-21:00Z.
        (utc("2026-07-06T12:59:00"), False),
        (utc("2026-07-06T13:00:00"), True),
        (utc("2026-07-06T20:59:00"), True),
        (utc("2026-07-06T21:00:00"), False),
        # Tuesday 01:00Z is still Monday 20:00 in New York, after hours.
        (utc("2026-01-06T01:00:00"), False),
    ],
)
def test_new_york_hours_follow_est_in_winter_and_edt_in_summer(at, expected):
    assert is_on_duty((rng(MON, "09:00", "17:00"),), NEW_YORK, at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Kolkata is UTC+05:30: 09:00-18:00 local is 03:30Z-12:30Z.
        (utc("2026-01-05T03:29:59"), False),
        (utc("2026-01-05T03:30:00"), True),
        (utc("2026-01-05T12:29:59"), True),
        (utc("2026-01-05T12:30:00"), False),
    ],
)
def test_kolkata_half_hour_offset_puts_the_boundary_at_half_past_utc(at, expected):
    assert is_on_duty((rng(MON, "09:00", "18:00"),), KOLKATA, at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Kathmandu is UTC+05:45: 09:00-18:00 local is 03:15Z-12:15Z.
        (utc("2026-01-05T03:14:59"), False),
        (utc("2026-01-05T03:15:00"), True),
        (utc("2026-01-05T12:14:59"), True),
        (utc("2026-01-05T12:15:00"), False),
    ],
)
def test_kathmandu_quarter_hour_offset_puts_the_boundary_at_quarter_past_utc(at, expected):
    assert is_on_duty((rng(MON, "09:00", "18:00"),), KATHMANDU, at) is expected


def test_kolkata_range_starting_at_half_past_begins_on_the_hour_utc():
    # 05:30-06:00 Kolkata = 00:00Z-00:30Z: the half hour cancels out.
    ranges = (rng(MON, "05:30", "06:00"),)
    assert minutes_on_duty(
        ranges, KOLKATA, utc("2026-01-04T23:00:00"), utc("2026-01-05T02:00:00")
    ) == [utc("2026-01-05T00:00:00") + timedelta(minutes=n) for n in range(30)]


# --- [start, end): the start minute is included, the end minute excluded ---------------


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ("08:59:59", False),
        ("09:00:00", True),
        ("09:00:30", True),
        ("11:59:59", True),
        ("12:00:00", False),
        ("12:00:01", False),
    ],
)
def test_range_includes_its_start_minute_and_excludes_its_end_minute(local_time, expected):
    at = utc(f"2026-01-05T{local_time}")
    assert is_on_duty((rng(MON, "09:00", "12:00"),), UTC_ZONE, at) is expected


def test_range_ending_at_24_00_runs_to_the_last_minute_of_the_day():
    ranges = (WeeklyRange(MON, hhmm("20:00"), MINUTES_PER_DAY),)
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T19:59:59")) is False
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T20:00:00")) is True
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T23:59:59")) is True
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-06T00:00:00")) is False  # Tuesday


def test_whole_day_range_covers_every_minute_of_that_day_only():
    ranges = (WeeklyRange(WED, 0, MINUTES_PER_DAY),)
    on = minutes_on_duty(ranges, UTC_ZONE, utc("2026-01-05T00:00:00"), utc("2026-01-12T00:00:00"))
    assert as_spans(on) == [(utc("2026-01-07T00:00:00"), utc("2026-01-08T00:00:00"))]


def test_every_day_00_00_to_24_00_is_always_on_duty():
    ranges = parse_hours({day: [["00:00", "24:00"]] for day in DAY_KEYS})
    on = minutes_on_duty(ranges, TAIPEI, utc("2026-01-05T00:00:00"), utc("2026-01-12T00:00:00"))
    assert len(on) == MINUTES_PER_WEEK


# --- Past-midnight ranges -----------------------------------------------------------------

FRIDAY_NIGHT = (rng(FRI, "22:00", "02:00"),)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Friday 2026-01-09, Saturday 2026-01-10 (UTC zone: wall clock = UTC).
        (utc("2026-01-09T21:59:00"), False),  # Fri 21:59
        (utc("2026-01-09T22:00:00"), True),  # Fri 22:00
        (utc("2026-01-09T23:59:59"), True),  # Fri 23:59:59
        (utc("2026-01-10T00:00:00"), True),  # Sat 00:00
        (utc("2026-01-10T01:59:00"), True),  # Sat 01:59
        (utc("2026-01-10T01:59:59"), True),
        (utc("2026-01-10T02:00:00"), False),  # Sat 02:00: the end is excluded
        (utc("2026-01-10T22:00:00"), False),  # Sat 22:00: the range belongs to Friday
        (utc("2026-01-09T01:00:00"), False),  # Fri 01:00: Thursday has no range
    ],
)
def test_past_midnight_tail_covers_next_morning_until_its_end(at, expected):
    assert is_on_duty(FRIDAY_NIGHT, UTC_ZONE, at) is expected


def test_past_midnight_range_in_taipei_is_read_on_taipei_wall_clock():
    # Fri 22:00 - Sat 02:00 Taipei = Fri 14:00Z - Fri 18:00Z.
    on = minutes_on_duty(
        FRIDAY_NIGHT, TAIPEI, utc("2026-01-08T00:00:00"), utc("2026-01-11T00:00:00")
    )
    assert as_spans(on) == [(utc("2026-01-09T14:00:00"), utc("2026-01-09T18:00:00"))]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc("2026-01-11T21:59:00"), False),  # Sun 21:59
        (utc("2026-01-11T22:00:00"), True),  # Sun 22:00
        (utc("2026-01-12T00:00:00"), True),  # Mon 00:00, the week has wrapped
        (utc("2026-01-12T01:00:00"), True),  # Mon 01:00
        (utc("2026-01-12T01:59:00"), True),
        (utc("2026-01-12T02:00:00"), False),  # Mon 02:00
        (utc("2026-01-13T01:00:00"), False),  # Tue 01:00
        (utc("2026-01-11T01:00:00"), False),  # Sun 01:00: Saturday has no range
    ],
)
def test_sunday_past_midnight_tail_wraps_into_monday(at, expected):
    assert is_on_duty((rng(SUN, "22:00", "02:00"),), UTC_ZONE, at) is expected


def test_past_midnight_tail_belongs_to_the_day_it_starts():
    saturday_night = (rng(SAT, "22:00", "02:00"),)
    # Saturday 2026-01-10 01:00 is the tail of Friday night, which has no range.
    assert is_on_duty(saturday_night, UTC_ZONE, utc("2026-01-10T01:00:00")) is False
    # Sunday 2026-01-11 01:00 is the tail of Saturday's range.
    assert is_on_duty(saturday_night, UTC_ZONE, utc("2026-01-11T01:00:00")) is True


def test_range_ending_at_00_00_runs_to_midnight_and_no_further():
    ranges = (rng(FRI, "22:00", "00:00"),)
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-09T23:59:00")) is True
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-10T00:00:00")) is False


def test_only_ranges_given_count_for_a_mixed_week():
    ranges = parse_hours(
        {
            "mon": [["09:00", "12:00"], ["13:00", "18:00"]],
            "sat": [["10:00", "14:00"]],
            "sun": [["22:00", "02:00"]],
        }
    )
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T12:30:00")) is False  # Mon lunch
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T13:00:00")) is True
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-05T01:30:00")) is True  # Sun's tail
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-10T14:00:00")) is False  # Sat end
    assert is_on_duty(ranges, UTC_ZONE, utc("2026-01-07T10:00:00")) is False  # Wednesday


def test_no_ranges_is_never_on_duty():
    assert is_on_duty((), UTC_ZONE, utc("2026-01-05T10:00:00")) is False


# --- Daylight saving: judged on local wall clock ---------------------------------------


def test_london_spring_forward_skipped_hour_never_occurs():
    # 2026-03-29 01:00 GMT jumps to 02:00 BST: local 01:00-01:59 does not exist.
    skipped = (rng(SUN, "01:00", "02:00"),)
    on = minutes_on_duty(skipped, LONDON, utc("2026-03-28T23:00:00"), utc("2026-03-30T00:00:00"))
    assert on == []


def test_london_spring_forward_range_across_the_gap_ends_on_the_wall_clock():
    # 00:30 GMT = 00:30Z; 02:30 BST = 01:30Z: one real hour on duty.
    ranges = (rng(SUN, "00:30", "02:30"),)
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T00:29:00")) is False
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T00:30:00")) is True
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T00:59:59")) is True  # 00:59:59 GMT
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T01:00:00")) is True  # 02:00 BST
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T01:29:59")) is True  # 02:29:59 BST
    assert is_on_duty(ranges, LONDON, utc("2026-03-29T01:30:00")) is False  # 02:30 BST
    on = minutes_on_duty(ranges, LONDON, utc("2026-03-28T23:00:00"), utc("2026-03-30T00:00:00"))
    assert as_spans(on) == [(utc("2026-03-29T00:30:00"), utc("2026-03-29T01:30:00"))]


def test_london_fall_back_repeated_hour_counts_both_times():
    # 2026-10-25 02:00 BST falls back to 01:00 GMT: local 01:00-01:59 happens twice,
    # 00:00Z-01:00Z (BST) and 01:00Z-02:00Z (GMT).
    repeated = (rng(SUN, "01:00", "02:00"),)
    assert is_on_duty(repeated, LONDON, utc("2026-10-24T23:59:00")) is False  # 00:59 BST
    assert is_on_duty(repeated, LONDON, utc("2026-10-25T00:00:00")) is True  # 01:00 BST
    assert is_on_duty(repeated, LONDON, utc("2026-10-25T00:59:59")) is True  # 01:59:59 BST
    assert is_on_duty(repeated, LONDON, utc("2026-10-25T01:00:00")) is True  # 01:00 GMT
    assert is_on_duty(repeated, LONDON, utc("2026-10-25T01:59:59")) is True  # 01:59:59 GMT
    assert is_on_duty(repeated, LONDON, utc("2026-10-25T02:00:00")) is False  # 02:00 GMT
    on = minutes_on_duty(repeated, LONDON, utc("2026-10-24T22:00:00"), utc("2026-10-26T00:00:00"))
    assert as_spans(on) == [(utc("2026-10-25T00:00:00"), utc("2026-10-25T02:00:00"))]


def test_new_york_spring_forward_night_shift_is_one_hour_shorter():
    # Sat 2026-03-07 22:00 EST (03:00Z Sun) to Sun 06:00 EDT (10:00Z): clocks skip
    # 02:00-03:00 at 07:00Z, so the shift lasts seven real hours.
    night = (rng(SAT, "22:00", "06:00"),)
    on = minutes_on_duty(night, NEW_YORK, utc("2026-03-07T00:00:00"), utc("2026-03-09T00:00:00"))
    assert as_spans(on) == [(utc("2026-03-08T03:00:00"), utc("2026-03-08T10:00:00"))]
    assert len(on) == 7 * 60


def test_new_york_spring_forward_tail_ending_inside_the_gap_ends_at_the_jump():
    # Tail to 02:30 local: 02:00-02:59 never occurs, so 01:59 EST (06:59Z) is the last
    # minute on duty and 03:00 EDT (07:00Z) is past the end.
    night = (rng(SAT, "23:00", "02:30"),)
    assert is_on_duty(night, NEW_YORK, utc("2026-03-08T03:59:00")) is False  # Sat 22:59 EST
    assert is_on_duty(night, NEW_YORK, utc("2026-03-08T04:00:00")) is True  # Sat 23:00 EST
    assert is_on_duty(night, NEW_YORK, utc("2026-03-08T06:59:00")) is True  # Sun 01:59 EST
    assert is_on_duty(night, NEW_YORK, utc("2026-03-08T07:00:00")) is False  # Sun 03:00 EDT


def test_new_york_fall_back_night_shift_is_one_hour_longer():
    # Sat 2026-10-31 22:00 EDT (02:00Z Sun) to Sun 02:00 EST (07:00Z): clocks repeat
    # 01:00-02:00 at 06:00Z, so the shift lasts five real hours.
    night = (rng(SAT, "22:00", "02:00"),)
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T01:59:00")) is False  # Sat 21:59 EDT
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T02:00:00")) is True  # Sat 22:00 EDT
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T05:59:00")) is True  # 01:59 EDT
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T06:00:00")) is True  # 01:00 EST
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T06:59:00")) is True  # 01:59 EST
    assert is_on_duty(night, NEW_YORK, utc("2026-11-01T07:00:00")) is False  # 02:00 EST
    on = minutes_on_duty(night, NEW_YORK, utc("2026-10-31T00:00:00"), utc("2026-11-02T00:00:00"))
    assert as_spans(on) == [(utc("2026-11-01T02:00:00"), utc("2026-11-01T07:00:00"))]
    assert len(on) == 5 * 60


# --- Naive datetimes are refused ---------------------------------------------------------


def test_is_on_duty_refuses_a_naive_datetime():
    naive = datetime(2026, 1, 5, 10, 0)
    with pytest.raises(ValueError, match="aware"):
        is_on_duty(TAIPEI_MON_DAY, TAIPEI, naive)


def test_is_on_duty_refuses_a_naive_datetime_even_with_no_ranges():
    with pytest.raises(ValueError, match="aware"):
        is_on_duty((), UTC_ZONE, datetime(2026, 1, 5, 10, 0))


# --- WeeklyRange.covers and week_intervals ------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "minute", "expected"),
    [
        (MON, hhmm("08:59"), False),
        (MON, hhmm("09:00"), True),
        (MON, hhmm("17:59"), True),
        (MON, hhmm("18:00"), False),
        (TUE, hhmm("10:00"), False),
        (SUN, hhmm("10:00"), False),
    ],
)
def test_covers_same_day_range(weekday, minute, expected):
    assert rng(MON, "09:00", "18:00").covers(weekday, minute) is expected


@pytest.mark.parametrize(
    ("weekday", "minute", "expected"),
    [
        (FRI, hhmm("21:59"), False),
        (FRI, hhmm("22:00"), True),
        (FRI, hhmm("23:59"), True),
        (SAT, hhmm("00:00"), True),
        (SAT, hhmm("01:59"), True),
        (SAT, hhmm("02:00"), False),
        (SAT, hhmm("22:00"), False),
        (FRI, hhmm("01:00"), False),
        (THU, hhmm("23:00"), False),
    ],
)
def test_covers_past_midnight_range(weekday, minute, expected):
    assert rng(FRI, "22:00", "02:00").covers(weekday, minute) is expected


@pytest.mark.parametrize(
    ("weekday", "minute", "expected"),
    [
        (SUN, hhmm("22:00"), True),
        (MON, hhmm("00:00"), True),
        (MON, hhmm("01:59"), True),
        (MON, hhmm("02:00"), False),
        (SAT, hhmm("01:00"), False),
        (SUN, hhmm("01:00"), False),
    ],
)
def test_covers_sunday_tail_into_monday(weekday, minute, expected):
    assert rng(SUN, "22:00", "02:00").covers(weekday, minute) is expected


def test_covers_whole_day_to_24_00():
    whole = WeeklyRange(TUE, 0, MINUTES_PER_DAY)
    assert whole.covers(TUE, 0) is True
    assert whole.covers(TUE, MINUTES_PER_DAY - 1) is True
    assert whole.covers(WED, 0) is False
    assert whole.covers(MON, MINUTES_PER_DAY - 1) is False


def test_past_midnight_property():
    assert rng(FRI, "22:00", "02:00").past_midnight is True
    assert rng(FRI, "22:00", "00:00").past_midnight is True
    assert rng(FRI, "09:00", "18:00").past_midnight is False
    assert WeeklyRange(FRI, 0, MINUTES_PER_DAY).past_midnight is False


@pytest.mark.parametrize(
    ("weekly_range", "intervals"),
    [
        (rng(MON, "09:00", "18:00"), [(540, 1080)]),
        (rng(TUE, "09:00", "18:00"), [(1440 + 540, 1440 + 1080)]),
        (WeeklyRange(MON, 0, MINUTES_PER_DAY), [(0, 1440)]),
        (WeeklyRange(SUN, 0, MINUTES_PER_DAY), [(6 * 1440, MINUTES_PER_WEEK)]),
        (rng(MON, "22:00", "02:00"), [(1320, 1440 + 120)]),
        (rng(FRI, "22:00", "00:00"), [(4 * 1440 + 1320, 5 * 1440)]),
        # Sunday's tail wraps to the start of the week.
        (rng(SUN, "22:00", "02:00"), [(6 * 1440 + 1320, MINUTES_PER_WEEK), (0, 120)]),
        (rng(SUN, "23:59", "23:58"), [(6 * 1440 + 1439, MINUTES_PER_WEEK), (0, 1438)]),
        # Ending exactly at Sunday midnight does not wrap.
        (rng(SUN, "22:00", "00:00"), [(6 * 1440 + 1320, MINUTES_PER_WEEK)]),
    ],
)
def test_week_intervals(weekly_range, intervals):
    assert weekly_range.week_intervals() == intervals


# --- parse_clock --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "is_end", "minutes"),
    [
        ("00:00", False, 0),
        ("00:00", True, 0),
        ("09:00", False, 540),
        ("09:30", False, 570),
        ("12:05", True, 725),
        ("23:59", False, 1439),
        ("23:59", True, 1439),
        ("24:00", True, 1440),
    ],
)
def test_parse_clock_reads_hh_mm(text, is_end, minutes):
    assert parse_clock(text, is_end=is_end) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "9:00",
        "09:0",
        "0900",
        "09.00",
        "09:60",
        "25:00",
        "30:00",
        "-1:00",
        " 09:00",
        "09:00 ",
        "",
        "ab:cd",
        "09:00:00",
        "09:00\n",
        "\u0660\u0669:00",  # Arabic-Indic digits
    ],
)
def test_parse_clock_rejects_text_not_of_the_form_hh_mm(text):
    with pytest.raises(ScheduleError, match="is not a time of the form HH:MM"):
        parse_clock(text, is_end=False)


@pytest.mark.parametrize("text", ["09:00\n", "0\u0669:00", "\uff10\uff19:00", "1\u0660:00"])
def test_parse_clock_rejects_trailing_newline_and_non_ascii_digits(text):
    # "$" matches before a final newline and "\d" matches any Unicode digit; neither
    # belongs in an HH:MM clock (they would be stored as a different text on export).
    with pytest.raises(ScheduleError):
        parse_clock(text, is_end=False)
    with pytest.raises(ScheduleError):
        parse_clock(text, is_end=True)


@pytest.mark.parametrize("value", [None, 900, 9.0, ["09:00"], b"09:00", True])
def test_parse_clock_rejects_non_strings(value):
    with pytest.raises(ScheduleError, match="is not a time of the form HH:MM"):
        parse_clock(value, is_end=True)


@pytest.mark.parametrize("text", ["24:01", "24:30", "24:59"])
def test_parse_clock_rejects_past_24_00(text):
    with pytest.raises(ScheduleError, match="is not a time of day"):
        parse_clock(text, is_end=True)
    with pytest.raises(ScheduleError, match="is not a time of day"):
        parse_clock(text, is_end=False)


def test_parse_clock_accepts_24_00_only_as_an_end():
    assert parse_clock("24:00", is_end=True) == MINUTES_PER_DAY
    with pytest.raises(ScheduleError, match="24:00 may only end a range"):
        parse_clock("24:00", is_end=False)


def test_parse_clock_error_quotes_the_text():
    with pytest.raises(ScheduleError) as caught:
        parse_clock("9:00", is_end=False)
    assert str(caught.value) == "'9:00' is not a time of the form HH:MM."


# --- summarize_hours ----------------------------------------------------------------------


def test_summary_groups_consecutive_days_and_marks_past_midnight():
    ranges = parse_hours(
        {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
        | {"sun": [["22:00", "02:00"]]}
    )
    assert summarize_hours(ranges) == "Mon-Fri 09:00-18:00, Sun 22:00-02:00 (+1)"


@pytest.mark.parametrize(
    ("hours", "summary"),
    [
        ({"mon": [["09:00", "18:00"]]}, "Mon 09:00-18:00"),
        ({"wed": [["00:00", "24:00"]]}, "Wed 00:00-24:00"),
        (
            {day: [["00:00", "24:00"]] for day in DAY_KEYS},
            "Mon-Sun 00:00-24:00",
        ),
        # A gap on Wednesday breaks the run into two groups.
        (
            {
                "mon": [["09:00", "17:00"]],
                "tue": [["09:00", "17:00"]],
                "thu": [["09:00", "17:00"]],
                "fri": [["09:00", "17:00"]],
            },
            "Mon-Tue 09:00-17:00, Thu-Fri 09:00-17:00",
        ),
        # Different hours on consecutive days are not grouped.
        (
            {"mon": [["09:00", "17:00"]], "tue": [["10:00", "17:00"]]},
            "Mon 09:00-17:00, Tue 10:00-17:00",
        ),
        # Several ranges on one day are listed in order, whatever order they came in.
        (
            {"sat": [["15:00", "19:00"], ["10:00", "14:00"]]},
            "Sat 10:00-14:00, 15:00-19:00",
        ),
        (
            {
                "fri": [["09:00", "12:00"], ["22:00", "02:00"]],
                "sat": [["09:00", "12:00"], ["22:00", "02:00"]],
            },
            "Fri-Sat 09:00-12:00, 22:00-02:00 (+1)",
        ),
        ({"fri": [["22:00", "00:00"]]}, "Fri 22:00-00:00 (+1)"),
    ],
)
def test_summarize_hours(hours, summary):
    assert summarize_hours(parse_hours(hours)) == summary


def test_summary_of_no_ranges_is_empty():
    assert summarize_hours(()) == ""


def test_summary_ignores_the_order_ranges_are_given_in():
    given = [rng(SUN, "22:00", "02:00"), rng(TUE, "09:00", "18:00"), rng(MON, "09:00", "18:00")]
    assert summarize_hours(given) == "Mon-Tue 09:00-18:00, Sun 22:00-02:00 (+1)"


# --- hours_to_config and parse_hours round trip -------------------------------------------

ROUND_TRIP_CASES = [
    {"mon": [["09:00", "18:00"]]},
    {
        "mon": [["09:00", "18:00"]],
        "tue": [["09:00", "18:00"]],
        "sat": [["10:00", "14:00"], ["15:00", "19:00"]],
        "sun": [["22:00", "02:00"]],
    },
    {day: [["00:00", "24:00"]] for day in DAY_KEYS},
    {"fri": [["22:00", "00:00"]], "sat": [["00:00", "06:00"], ["23:30", "00:15"]]},
    {"wed": [["00:01", "23:59"]]},
]


@pytest.mark.parametrize("hours", ROUND_TRIP_CASES)
def test_hours_to_config_gives_back_the_configuration(hours):
    assert hours_to_config(parse_hours(hours)) == hours


@pytest.mark.parametrize("hours", ROUND_TRIP_CASES)
def test_parse_hours_of_hours_to_config_gives_back_the_ranges(hours):
    ranges = parse_hours(hours)
    assert parse_hours(hours_to_config(ranges)) == ranges


def test_hours_to_config_orders_days_and_ranges_and_leaves_out_empty_days():
    ranges = [rng(SUN, "22:00", "02:00"), rng(MON, "13:00", "18:00"), rng(MON, "08:00", "12:00")]
    config = hours_to_config(ranges)
    assert config == {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sun": [["22:00", "02:00"]]}
    assert list(config) == ["mon", "sun"]


def test_hours_to_config_writes_24_00_for_end_of_day():
    assert hours_to_config([WeeklyRange(THU, 0, MINUTES_PER_DAY)]) == {"thu": [["00:00", "24:00"]]}


def test_parse_hours_returns_sorted_weekly_ranges():
    ranges = parse_hours(
        {"sun": [["22:00", "02:00"]], "mon": [["13:00", "18:00"], ["08:00", "12:00"]]}
    )
    assert ranges == (
        rng(MON, "08:00", "12:00"),
        rng(MON, "13:00", "18:00"),
        rng(SUN, "22:00", "02:00"),
    )
