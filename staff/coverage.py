"""Coverage maths: when each working time is on duty over a stretch of real time, and where
the store is covered by nobody, or by one person only.

Pure functions of weekly ranges, time zones and instants (ground floor: nothing here reads
the database or knows about assignment). Every instant returned is an aware UTC datetime;
callers convert to the zone they show.

How wall-clock ranges become instants
-------------------------------------
Between two changes of a zone's UTC offset, local wall-clock time is simply the instant plus
a constant offset. So the stretch asked about is cut into *offset segments* (split at each
daylight-saving transition), and in each segment a wall-clock range ``[start, end)`` covers
exactly the instants ``[start - offset, end - offset)`` that fall inside the segment. This
agrees with ``schedule.is_on_duty`` at every instant: a range (or the part of it) in the
hour skipped when clocks spring forward covers nothing, and a range in the hour repeated
when clocks fall back is met in both segments, so it counts twice. A local date with a dated
exception takes the exception's ranges instead of its weekday's (``schedule.ranges_on``).

The store's days are the same idea seen from the store's zone: a day runs from one local
midnight to the next, which is 23 hours on the day clocks spring forward and 25 when they
fall back. Subtract instants in UTC only (Python subtracts two datetimes of the same zone as
wall-clock times, which would make every day 24 hours).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from staff.schedule import MINUTES_PER_DAY, Exceptions, WeeklyRange, ranges_on

DAYS_PER_WEEK = 7
# Offsets are probed this far apart, then the change is found to the second. Real zones
# change offset months apart; an hour keeps a week's work to ~170 cheap probes per zone.
_PROBE_STEP = timedelta(hours=1)


class NonexistentLocalTime(ValueError):
    """A wall-clock time that the zone skips (clocks spring forward over it)."""


@dataclass(frozen=True, order=True)
class Interval:
    """``[start, end)`` between two aware UTC instants."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Shift:
    """A working time as the coverage maths needs it: weekly ranges read in a zone, and the
    dated exceptions that replace them on their dates."""

    zone: ZoneInfo
    ranges: tuple[WeeklyRange, ...]
    exceptions: Exceptions = field(default_factory=dict)


@dataclass(frozen=True)
class RosterEntry:
    """A staff member: who (any key), which shift (a key of the shifts, or None), active."""

    staff: Hashable
    shift: Hashable | None
    active: bool = True


@dataclass(frozen=True)
class Stretch:
    """A piece of time during which the same people are on duty."""

    start: datetime
    end: datetime
    people: frozenset

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class StoreDay:
    """One local calendar day of the store: from one local midnight to the next."""

    date: date
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def hours(self) -> float:
        return self.length / timedelta(hours=1)


@dataclass(frozen=True)
class DayCoverage:
    day: StoreDay
    stretches: tuple[Stretch, ...]  # consecutive, covering the whole day

    @property
    def gaps(self) -> tuple[Stretch, ...]:
        """When nobody is on duty."""
        return tuple(stretch for stretch in self.stretches if not stretch.people)

    @property
    def single(self) -> tuple[Stretch, ...]:
        """When exactly one person is on duty (a handover between two is two stretches)."""
        return tuple(stretch for stretch in self.stretches if len(stretch.people) == 1)


@dataclass(frozen=True)
class WeekCoverage:
    days: tuple[DayCoverage, ...]
    # The on-duty intervals over the whole week, per shift someone on the roster has (away
    # or not), and per active staff member with a shift: the people who count.
    shift_intervals: Mapping[Hashable, tuple[Interval, ...]]
    staff_intervals: Mapping[Hashable, tuple[Interval, ...]]

    @property
    def start(self) -> datetime:
        return self.days[0].day.start

    @property
    def end(self) -> datetime:
        return self.days[-1].day.end


# --- Store days ------------------------------------------------------------------------------


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a local ``day`` begins in ``zone``.

    Where clocks skip midnight, the day begins when they jump (fold=0 reads a skipped time
    with the offset before the change, which lands on the change); where midnight repeats,
    at its first occurrence.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def store_day(day: date, zone: ZoneInfo) -> StoreDay:
    return StoreDay(day, local_midnight(day, zone), local_midnight(day + timedelta(1), zone))


def store_week(*, start: date, zone: ZoneInfo) -> tuple[StoreDay, ...]:
    """Seven local days of ``zone`` from ``start``."""
    return tuple(store_day(start + timedelta(days=n), zone) for n in range(DAYS_PER_WEEK))


def week_start(day: date) -> date:
    """The Monday of the week containing ``day``."""
    return day - timedelta(days=day.weekday())


def resolve_local(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) at which clocks in ``zone`` show the naive ``wall`` time.

    ``wall.fold`` picks the occurrence of a repeated time (0: the first, 1: the second).
    Raises NonexistentLocalTime for a time the zone skips.
    """
    if wall.tzinfo is not None:
        raise ValueError("resolve_local needs a naive wall-clock time")
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None, fold=0) != wall.replace(fold=0):
        raise NonexistentLocalTime(f"{wall:%Y-%m-%d %H:%M} does not occur in {zone.key}.")
    return instant


def is_repeated(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive ``wall`` time occurs twice in ``zone`` (clocks fall back over it)."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset() and not _is_skipped(wall, zone)


def _is_skipped(wall: datetime, zone: ZoneInfo) -> bool:
    try:
        resolve_local(wall.replace(fold=0), zone)
    except NonexistentLocalTime:
        return True
    return False


# --- On-duty intervals -------------------------------------------------------------------------


def on_duty_intervals(
    *,
    ranges: Iterable[WeeklyRange],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    exceptions: Exceptions | None = None,
) -> tuple[Interval, ...]:
    """The instants in ``[start, end)`` when ``ranges``, read in ``zone``, are on duty, with
    ``exceptions`` replacing the ranges of their dates.

    Sorted and merged (touching intervals joined). See the module docstring for how
    daylight-saving changes are handled.
    """
    start, end = _as_utc(start), _as_utc(end)
    ranges = tuple(ranges)
    exceptions = exceptions or {}
    if not (ranges or exceptions) or end <= start:
        return ()
    found: list[Interval] = []
    for segment_start, segment_end, offset in _offset_segments(zone, start, end):
        first_day = _wall(segment_start, offset).date() - timedelta(days=1)  # tails of ranges
        last_day = _wall(segment_end, offset).date()
        for wall_start, wall_end in _wall_ranges(ranges, exceptions, first_day, last_day):
            begin = max(segment_start, _instant(wall_start, offset))
            finish = min(segment_end, _instant(wall_end, offset))
            if begin < finish:
                found.append(Interval(begin, finish))
    return merge(found)


def on_duty_time(
    *,
    ranges: Iterable[WeeklyRange],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    exceptions: Exceptions | None = None,
) -> timedelta:
    """How long ``ranges`` are on duty in ``[start, end)``, in real (elapsed) time."""
    return total(
        on_duty_intervals(ranges=ranges, zone=zone, start=start, end=end, exceptions=exceptions)
    )


def _wall_ranges(
    ranges: tuple[WeeklyRange, ...], exceptions: Exceptions, first_day: date, last_day: date
) -> Iterable[tuple[datetime, datetime]]:
    """Each range as naive wall-clock ``(start, end)`` on the local days given."""
    day = first_day
    while day <= last_day:
        midnight = datetime.combine(day, time(0))
        for range_start, range_end in ranges_on(day, ranges, exceptions):
            length = (range_end - range_start) % MINUTES_PER_DAY or MINUTES_PER_DAY
            begin = midnight + timedelta(minutes=range_start)
            yield begin, begin + timedelta(minutes=length)
        day += timedelta(days=1)


def offset_changes(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, timedelta, timedelta]]:
    """Each change of ``zone``'s UTC offset in ``(start, end)``: (instant, before, after)."""
    segments = _offset_segments(zone, _as_utc(start), _as_utc(end))
    return [(later[0], earlier[2], later[2]) for earlier, later in pairwise(segments)]


def _offset_segments(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` cut where ``zone`` changes its UTC offset: (from, to, offset)."""
    segments = []
    segment_start, offset = start, _offset(zone, start)
    probe = start
    while probe < end:
        step_end = min(probe + _PROBE_STEP, end)
        if _offset(zone, step_end) != offset:
            change = _first_change(zone, probe, step_end)
            if change < end:
                segments.append((segment_start, change, offset))
                segment_start, offset = change, _offset(zone, change)
            step_end = change
        probe = step_end
    segments.append((segment_start, end, offset))
    return segments


def _first_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first whole second in ``(before, after]`` with another offset than ``before``.

    Offsets change on whole seconds, so bisecting whole seconds finds the change exactly.
    """
    offset = _offset(zone, before)
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, datetime.fromtimestamp(middle, tz=UTC)) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, tz=UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset()  # type: ignore[return-value]


def _wall(instant: datetime, offset: timedelta) -> datetime:
    return (instant + offset).replace(tzinfo=None)


def _instant(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("coverage maths needs aware datetimes")
    return instant.astimezone(UTC)


# --- Interval arithmetic --------------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return tuple(merged)


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> tuple[Interval, ...]:
    """The parts of ``intervals`` inside ``[start, end)``."""
    clipped = (
        Interval(max(interval.start, start), min(interval.end, end)) for interval in intervals
    )
    return tuple(interval for interval in clipped if interval.start < interval.end)


def total(intervals: Iterable[Interval]) -> timedelta:
    return sum((interval.duration for interval in intervals), timedelta())


# --- Who covers the store -------------------------------------------------------------------


def coverage_stretches(
    *, on_duty: Mapping[Hashable, Iterable[Interval]], start: datetime, end: datetime
) -> tuple[Stretch, ...]:
    """``[start, end)`` cut into consecutive stretches, each with the set of people on duty.

    ``on_duty`` maps each person to their on-duty intervals. Neighbouring stretches always
    differ in who is on duty.
    """
    start, end = _as_utc(start), _as_utc(end)
    changes: dict[datetime, list[tuple[Hashable, int]]] = defaultdict(list)
    for person, intervals in on_duty.items():
        for interval in clip(merge(intervals), start, end):
            changes[interval.start].append((person, +1))
            changes[interval.end].append((person, -1))
    present: dict[Hashable, int] = defaultdict(int)
    stretches: list[Stretch] = []
    for begin, finish in pairwise(sorted({start, end, *changes})):
        for person, step in changes.get(begin, ()):
            present[person] += step
        people = frozenset(person for person, count in present.items() if count > 0)
        if stretches and stretches[-1].people == people:
            stretches[-1] = Stretch(stretches[-1].start, finish, people)
        else:
            stretches.append(Stretch(begin, finish, people))
    return tuple(stretches)


def week_coverage(
    *,
    week_start: date,
    store_zone: ZoneInfo,
    shifts: Mapping[Any, Shift],  # any hashable key: Mapping[Hashable, ...] refuses dict[int, ...]
    roster: Iterable[RosterEntry],
) -> WeekCoverage:
    """Seven store days from ``week_start``: each day cut into stretches of who is on duty.

    People are counted, not shifts: a shift with no active staff covers nobody, and two
    active staff on one shift are two people. Away staff and staff without a shift (or with
    a shift not in ``shifts``) are on duty never.
    """
    days = store_week(start=week_start, zone=store_zone)
    start, end = days[0].start, days[-1].end
    entries = [entry for entry in roster if entry.shift in shifts]
    shift_intervals = {
        key: on_duty_intervals(
            ranges=shifts[key].ranges,
            zone=shifts[key].zone,
            start=start,
            end=end,
            exceptions=shifts[key].exceptions,
        )
        for key in {entry.shift for entry in entries}
    }
    staff_intervals = {
        entry.staff: shift_intervals[entry.shift] for entry in entries if entry.active
    }
    return WeekCoverage(
        days=tuple(
            DayCoverage(
                day, coverage_stretches(on_duty=staff_intervals, start=day.start, end=day.end)
            )
            for day in days
        ),
        shift_intervals=shift_intervals,
        staff_intervals=staff_intervals,
    )
