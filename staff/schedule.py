"""Schedule maths: pure functions of weekly hours, a time zone and an instant.

Working hours are wall-clock hours in the working time's own IANA zone. A range is
``[start, end)`` in minutes after local midnight of the weekday it starts on; ``end`` may be
1440 ("24:00"), and ``end < start`` means the range runs past midnight into the next day
(Sunday's tail runs into Monday). An instant is on duty when its local wall-clock time falls
in a range, so a time skipped when clocks spring forward never occurs, and when clocks fall
back both occurrences of the repeated hour count.

Dated exceptions (``DateException``): on a calendar date of the working time's zone that
has one, its ranges **replace** that weekday's ranges (none: closed all day). A range
belongs to the date it starts on, so the tail of the previous day's range still runs into
an exception date, and an exception's own past-midnight tail runs into the next date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


@dataclass(frozen=True, order=True)
class DateException:
    """Hours that replace the weekday's on one calendar date; no ranges: closed all day.

    ``ranges`` are ``(start, end)`` minutes as in ``WeeklyRange`` (``end < start`` runs
    past midnight into the next date). ``name`` is a label ("Christmas Day"), not a rule.
    """

    day: date
    ranges: tuple[tuple[int, int], ...] = ()
    name: str = ""

    @property
    def closed(self) -> bool:
        return not self.ranges


Exceptions = Mapping[date, DateException]
_NO_EXCEPTIONS: dict[date, DateException] = {}


def is_on_duty(
    ranges: tuple[WeeklyRange, ...],
    zone: ZoneInfo,
    at: datetime,
    exceptions: Exceptions = _NO_EXCEPTIONS,
) -> bool:
    """Whether ``at`` (an aware instant) falls in one of ``ranges`` read in ``zone``, with
    ``exceptions`` (by date) replacing the weekly ranges of their dates."""
    if at.tzinfo is None:
        raise ValueError("is_on_duty needs an aware datetime")
    local = at.astimezone(zone)
    weekday, minute = local.weekday(), local.hour * 60 + local.minute
    if not exceptions:
        return any(weekly_range.covers(weekday, minute) for weekly_range in ranges)
    today = local.date()
    if any(
        _starts_cover(start, end, minute) for start, end in ranges_on(today, ranges, exceptions)
    ):
        return True
    if today == date.min:
        return False
    yesterday = ranges_on(today - timedelta(days=1), ranges, exceptions)
    return any(end < start and minute < end for start, end in yesterday)


def _starts_cover(start: int, end: int, minute: int) -> bool:
    """Whether a range starting on this date covers ``minute`` of this date."""
    return start <= minute < end if start < end else minute >= start


def ranges_on(
    day: date, weekly: Iterable[WeeklyRange], exceptions: Exceptions
) -> tuple[tuple[int, int], ...]:
    """The ``(start, end)`` ranges that start on ``day``: its exception's, else its weekday's."""
    exception = exceptions.get(day)
    if exception is not None:
        return exception.ranges
    weekday = day.weekday()
    return tuple((item.start, item.end) for item in weekly if item.weekday == weekday)


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


def _parse_range(day: str, pair: object, *, label: str | None = None) -> WeeklyRange:
    label = label or day
    if not (isinstance(pair, list | tuple) and len(pair) == 2):
        raise ScheduleError(f"{label}: each range is a pair [start, end], not {pair!r}.")
    try:
        start = parse_clock(pair[0], is_end=False)
        end = parse_clock(pair[1], is_end=True)
    except ScheduleError as error:
        raise ScheduleError(f"{label}: {error}") from None
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


# --- Dated exceptions in the configuration form: {"2026-12-31": [["09:00", "15:00"]]} --------


def parse_date(text: object) -> date:
    """A calendar date written ``YYYY-MM-DD``; ScheduleError otherwise."""
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ScheduleError(gettext("%(text)r is not a date of the form YYYY-MM-DD.") % {"text": text})


def parse_exception_ranges(day: date, day_ranges: object) -> tuple[tuple[int, int], ...]:
    """One date's ranges in the configuration form; ScheduleError starting with the date."""
    label = day.isoformat()
    if not isinstance(day_ranges, list | tuple):
        raise ScheduleError(
            gettext("%(date)s: expected a list of [start, end] ranges ([] is closed).")
            % {"date": label}
        )
    parsed = []
    for pair in day_ranges:
        weekly_range = _parse_range(DAY_KEYS[day.weekday()], pair, label=label)
        parsed.append((weekly_range.start, weekly_range.end))
    return tuple(sorted(parsed))


def parse_exceptions(exceptions: object) -> dict[date, tuple[tuple[int, int], ...]]:
    """Validate exceptions in the configuration form (dates to lists of ranges) one by one.

    Overlaps with the neighbouring days need the weekly hours: ``validate_exceptions``.
    """
    if not isinstance(exceptions, dict):
        raise ScheduleError(gettext("Exceptions must be an object of YYYY-MM-DD dates to ranges."))
    parsed: dict[date, tuple[tuple[int, int], ...]] = {}
    for key, day_ranges in exceptions.items():
        day = parse_date(key)
        parsed[day] = parse_exception_ranges(day, day_ranges)
    return parsed


def validate_exceptions(
    weekly: Iterable[WeeklyRange], exceptions: Iterable[DateException]
) -> tuple[DateException, ...]:
    """Reject zero-length ranges and overlaps on and around each exception date.

    Overlaps are checked as for weekly hours, across both midnights of an exception date:
    the previous day's tail against its ranges, its own tail against the next day's.
    Messages start with the exception's date.
    """
    weekly = tuple(weekly)
    by_day = {exception.day: exception for exception in exceptions}
    for exception in by_day.values():
        for start, end in exception.ranges:
            if start == end:
                raise ScheduleError(
                    gettext("%(range)s: a range cannot end as it starts.")
                    % {"range": _describe_dated(exception.day, start, end)}
                )
    for day in sorted(by_day):
        for first_day in (day - timedelta(days=1), day):
            if date.min < first_day < date.max:
                _check_two_days(first_day, weekly, by_day, blame=day)
    return tuple(by_day[day] for day in sorted(by_day))


def _check_two_days(
    first_day: date, weekly: tuple[WeeklyRange, ...], by_day: Exceptions, *, blame: date
) -> None:
    """Overlaps among the ranges starting on ``first_day`` and the day after it."""
    pieces = []
    for offset in (0, 1):
        day = first_day + timedelta(days=offset)
        for start, end in ranges_on(day, weekly, by_day):
            length = (end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY
            begin = offset * MINUTES_PER_DAY + start
            pieces.append((begin, begin + length, day, start, end))
    pieces.sort()
    for first, second in zip(pieces, pieces[1:], strict=False):
        if second[0] < first[1]:
            described = [
                _describe_dated(*piece[2:], weekly=piece[2] not in by_day)
                for piece in (first, second)
            ]
            # The message starts with the exception at fault, as the file's entries do.
            if second[2] != blame and first[2] == blame:
                described.reverse()
            raise ScheduleError(
                gettext("%(later)s overlaps %(earlier)s.")
                % {"later": described[1], "earlier": described[0]}
            )


def _describe_dated(day: date, start: int, end: int, *, weekly: bool = False) -> str:
    suffix = " (+1)" if end < start else ""
    span = f"{format_clock(start)}-{format_clock(end)}{suffix}"
    if weekly:
        return gettext("%(date)s %(range)s (the weekly hours of %(day)s)") % {
            "date": day.isoformat(),
            "range": span,
            "day": DAY_KEYS[day.weekday()],
        }
    return f"{day.isoformat()} {span}"


def exceptions_to_config(exceptions: Iterable[DateException]) -> dict[str, list]:
    """The configuration form of ``exceptions``, by date; ``[]`` for a closed day."""
    return {
        exception.day.isoformat(): [
            [format_clock(start), format_clock(end)] for start, end in sorted(exception.ranges)
        ]
        for exception in sorted(exceptions)
    }


def describe_exception_hours(exception: DateException) -> str:
    """ "closed" or "09:00-15:00, 22:00-02:00 (+1)"."""
    if exception.closed:
        return "closed"
    return ", ".join(
        f"{format_clock(start)}-{format_clock(end)}{' (+1)' if end < start else ''}"
        for start, end in sorted(exception.ranges)
    )
