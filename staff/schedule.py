"""Schedule maths: pure functions of weekly hours, a time zone and an instant.

Working hours are wall-clock hours in the working time's own IANA zone. A range is
``[start, end)`` in minutes after local midnight of the weekday it starts on; ``end`` may be
1440 ("24:00"), and ``end < start`` means the range runs past midnight into the next day
(Sunday's tail runs into Monday). An instant is on duty when its local wall-clock time falls
in a range, so a time skipped when clocks spring forward never occurs, and when clocks fall
back both occurrences of the repeated hour count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# ASCII digits only, and \Z rather than $ (which would let a trailing newline through).
_HHMM = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])\Z")


class ScheduleError(ValueError):
    """Weekly hours or a time zone that break a rule; the message says which and why."""


@dataclass(frozen=True, order=True)
class WeeklyRange:
    weekday: int  # 0 = Monday, as datetime.weekday()
    start: int  # minutes after local midnight, 0..1439
    end: int  # minutes after local midnight, 0..1440; end < start runs past midnight

    @property
    def past_midnight(self) -> bool:
        return self.end < self.start

    def week_intervals(self) -> list[tuple[int, int]]:
        """The minutes of the week this range covers, split where the week wraps."""
        begin = self.weekday * MINUTES_PER_DAY + self.start
        length = (self.end - self.start) % MINUTES_PER_DAY or MINUTES_PER_DAY
        finish = begin + length
        if finish <= MINUTES_PER_WEEK:
            return [(begin, finish)]
        return [(begin, MINUTES_PER_WEEK), (0, finish - MINUTES_PER_WEEK)]

    def covers(self, weekday: int, minute: int) -> bool:
        """Whether local wall-clock ``minute`` of ``weekday`` falls in this range."""
        if not self.past_midnight:
            return weekday == self.weekday and self.start <= minute < self.end
        if weekday == self.weekday:
            return minute >= self.start
        return weekday == (self.weekday + 1) % 7 and minute < self.end


def zone_for(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ScheduleError if there is none."""
    if name not in _known_zones():
        raise ScheduleError(gettext("%(zone)r is not an IANA time zone.") % {"zone": name})
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone_names() -> list[str]:
    return sorted(_known_zones())


def is_on_duty(ranges: tuple[WeeklyRange, ...], zone: ZoneInfo, at: datetime) -> bool:
    """Whether ``at`` (an aware instant) falls in one of ``ranges`` read in ``zone``."""
    if at.tzinfo is None:
        raise ValueError("is_on_duty needs an aware datetime")
    local = at.astimezone(zone)
    weekday, minute = local.weekday(), local.hour * 60 + local.minute
    return any(weekly_range.covers(weekday, minute) for weekly_range in ranges)


# --- Parsing and formatting the configuration form: {"mon": [["09:00", "18:00"]], ...} ---


def parse_clock(text: object, *, is_end: bool) -> int:
    """Minutes after midnight for "HH:MM"; "24:00" only as the end of a range."""
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ScheduleError(gettext("%(text)r is not a time of the form HH:MM.") % {"text": text})
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > MINUTES_PER_DAY or (minutes == MINUTES_PER_DAY and not is_end):
        raise ScheduleError(
            gettext("%(text)r is not a time of day (24:00 may only end a range).") % {"text": text}
        )
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(hours: object) -> tuple[WeeklyRange, ...]:
    """Validate weekly hours in the configuration form and return them as ranges.

    Raises ScheduleError naming the day and range at fault.
    """
    if not isinstance(hours, dict):
        raise ScheduleError("Hours must be an object with the keys mon..sun.")
    ranges: list[WeeklyRange] = []
    for key, day_ranges in hours.items():
        if key not in DAY_KEYS:
            raise ScheduleError(f"{key!r} is not a day; use {', '.join(DAY_KEYS)}.")
        if not isinstance(day_ranges, list):
            raise ScheduleError(f"{key}: expected a list of [start, end] ranges.")
        for pair in day_ranges:
            ranges.append(_parse_range(key, pair))
    return validate_ranges(ranges)


def _parse_range(day: str, pair: object) -> WeeklyRange:
    if not (isinstance(pair, list | tuple) and len(pair) == 2):
        raise ScheduleError(f"{day}: each range is a pair [start, end], not {pair!r}.")
    try:
        start = parse_clock(pair[0], is_end=False)
        end = parse_clock(pair[1], is_end=True)
    except ScheduleError as error:
        raise ScheduleError(f"{day}: {error}") from None
    return WeeklyRange(DAY_KEYS.index(day), start, end)


def validate_ranges(ranges: list[WeeklyRange]) -> tuple[WeeklyRange, ...]:
    """Reject empty weeks, zero-length ranges and overlaps (past-midnight tails included)."""
    if not ranges:
        raise ScheduleError(gettext("A working time needs at least one range of hours."))
    for weekly_range in ranges:
        if weekly_range.start == weekly_range.end:
            raise ScheduleError(
                gettext("%(range)s: a range cannot end as it starts.")
                % {"range": describe_range(weekly_range)}
            )
    pieces = sorted(
        (begin, finish, weekly_range)
        for weekly_range in ranges
        for begin, finish in weekly_range.week_intervals()
    )
    for (_, finish, first), (begin, _, second) in zip(pieces, pieces[1:], strict=False):
        if begin < finish:
            raise ScheduleError(
                gettext("%(later)s overlaps %(earlier)s.")
                % {"later": describe_range(second), "earlier": describe_range(first)}
            )
    return tuple(sorted(set(ranges)))


def describe_range(weekly_range: WeeklyRange) -> str:
    """ "mon 22:00-02:00 (+1)": the configuration file's words, which messages quote (the
    settings form shows them with the weekday's name: chatassist.pages.forms)."""
    suffix = " (+1)" if weekly_range.past_midnight else ""
    return (
        f"{DAY_KEYS[weekly_range.weekday]} {format_clock(weekly_range.start)}"
        f"-{format_clock(weekly_range.end)}{suffix}"
    )


def hours_to_config(ranges: tuple[WeeklyRange, ...] | list[WeeklyRange]) -> dict[str, list]:
    """The configuration form of ``ranges``; days without hours are left out."""
    hours: dict[str, list] = {}
    for weekly_range in sorted(ranges):
        hours.setdefault(DAY_KEYS[weekly_range.weekday], []).append(
            [format_clock(weekly_range.start), format_clock(weekly_range.end)]
        )
    return hours


def summarize_hours(ranges: tuple[WeeklyRange, ...] | list[WeeklyRange]) -> str:
    """A short human summary: "Mon-Fri 09:00-18:00, Sun 22:00-02:00 (+1)"."""
    by_day: dict[int, tuple] = {}
    for weekly_range in sorted(ranges):
        by_day[weekly_range.weekday] = by_day.get(weekly_range.weekday, ()) + (
            (weekly_range.start, weekly_range.end),
        )
    parts: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == by_day[day]:
            last += 1
        # "Mon" in English, the page's language elsewhere (Django's own weekday names).
        days = str(WEEKDAYS_ABBR[day]) + ("" if last == day else f"-{WEEKDAYS_ABBR[last]}")
        spans = ", ".join(
            f"{format_clock(start)}-{format_clock(end)}{' (+1)' if end < start else ''}"
            for start, end in by_day[day]
        )
        parts.append(f"{days} {spans}")
        day = last + 1
    return ", ".join(parts)
