"""The coverage week grid as the template draws it: percentages and labels, no maths of its
own beyond placing instants on a day's width.

Each day is drawn as wide as it is long (a 23-hour day is 23/24 of a normal one, a 25-hour
day 25/24), so an hour has the same width all week; hour labels sit at the real instants the
store's clocks show them, so after a change they shift, and a marker shows the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.dateformat import format as format_date
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext

from assignment.reports import coverage as weekly
from staff import coverage, schedule
from staff.models import Staff, WorkingTime

LABELLED_HOURS = (0, 6, 12, 18)
PALETTE_SIZE = 6


@dataclass(frozen=True)
class Bar:
    left: float  # percent of the day's width
    width: float
    title: str
    css: str = ""

    @property
    def style(self) -> str:
        return f"left: {self.left:.3f}%; width: {self.width:.3f}%"


@dataclass(frozen=True)
class Tick:
    left: float
    label: str
    major: bool = True

    @property
    def style(self) -> str:
        return f"left: {self.left:.3f}%"


@dataclass(frozen=True)
class Lane:
    staff: Staff
    color: int  # index into the palette of working times
    counted: bool  # False for away staff: drawn, but not counted in the coverage


@dataclass(frozen=True)
class LaneDay:
    lane: Lane
    bars: list[Bar]


@dataclass(frozen=True)
class GridDay:
    coverage: coverage.DayCoverage
    hours: float
    label: str  # "Mon 23"
    medium_label: str  # "Mon 23 Mar"
    full_label: str  # "Monday 23 November 2026"
    change: str | None
    is_today: bool
    ticks: list[Tick]  # labelled hours
    hour_lines: list[Tick]  # every whole hour
    changes: list[Bar]  # markers where the clocks change
    stretches: list[Bar]  # the coverage lane: gap / single / covered
    gaps: list[Bar]  # shading across the whole column
    now: Tick | None  # where "now" is, if it falls on this day
    lanes: list[LaneDay]
    gap_texts: list[str]
    single_texts: list[str]
    exception_texts: list[str] = field(default_factory=list)  # "Taipei day: closed (...)"
    exception_badge: str = ""  # short, for the day's head: "Christmas Day", "2 exceptions"

    @property
    def style(self) -> str:
        """Each day as wide as it is long, so an hour has one width all week."""
        return f"flex-grow: {self.hours:.4f}"


@dataclass(frozen=True)
class Legend:
    color: int
    name: str
    zone: str
    summary: str


@dataclass(frozen=True)
class WeekGrid:
    days: list[GridDay]
    lanes: list[Lane]
    legend: list[Legend]
    without_working_time: list[Staff]
    gap_hours: float
    single_hours: float


def week_grid(report: weekly.CoverageReport, *, now: datetime) -> WeekGrid:
    colors: dict[int, int] = {}
    for member in report.staff:
        if member.working_time_id is not None:
            colors.setdefault(member.working_time_id, len(colors) % PALETTE_SIZE)
    lanes = [
        Lane(staff=member, color=colors[member.working_time_id], counted=member.active)
        for member in report.staff
        if member.working_time_id is not None
    ]
    staff = report.staff_by_id()
    return WeekGrid(
        days=[
            _grid_day(day, report=report, lanes=lanes, now=now, staff=staff)
            for day in report.week.days
        ],
        lanes=lanes,
        legend=_legend(report, colors),
        without_working_time=[member for member in report.staff if member.working_time is None],
        gap_hours=_hours(stretch for day in report.week.days for stretch in day.gaps),
        single_hours=_hours(stretch for day in report.week.days for stretch in day.single),
    )


def _grid_day(
    day: coverage.DayCoverage,
    *,
    report: weekly.CoverageReport,
    lanes: list[Lane],
    now: datetime,
    staff: dict[int, Staff],
) -> GridDay:
    store_day, zone = day.day, report.zone

    def clock(instant: datetime) -> str:
        return weekly.local_clock(instant, day=store_day, zone=zone)

    stretches = [
        Bar(
            *_place(stretch.start, stretch.end, store_day),
            title=f"{clock(stretch.start)}–{clock(stretch.end)}: {_who(stretch, staff)}",
            css=_stretch_css(stretch),
        )
        for stretch in day.stretches
    ]
    change = weekly.day_change(store_day, zone)
    hour_lines = _hour_ticks(store_day, zone)
    marks = report.exceptions_on(store_day.date)
    return GridDay(
        coverage=day,
        hours=store_day.hours,
        # A date format of its own, translated: a column is narrow ("Mon 23", "23日 (一)").
        label=format_date(store_day.date, pgettext("coverage day column, a date format", "D j")),
        medium_label=date_format(store_day.date, "MONTH_DAY_FORMAT"),
        full_label=date_format(store_day.date, "DATE_FORMAT"),
        change=change,
        is_today=store_day.start <= now < store_day.end,
        ticks=[tick for tick in hour_lines if tick.major],
        hour_lines=hour_lines,
        changes=[
            Bar(*_place(instant, instant, store_day), title=change or "")
            for instant, _, _ in coverage.offset_changes(zone, store_day.start, store_day.end)
        ],
        stretches=stretches,
        gaps=[bar for bar in stretches if bar.css == "gap"],
        now=(
            Tick(_place(now, now, store_day)[0], gettext("now %(time)s") % {"time": clock(now)})
            if store_day.start <= now < store_day.end
            else None
        ),
        lanes=[
            LaneDay(lane, _lane_bars(lane.staff, report=report, day=store_day)) for lane in lanes
        ],
        gap_texts=[weekly.stretch_text(gap, day=store_day, zone=zone) for gap in day.gaps],
        single_texts=[
            f"{weekly.stretch_text(single, day=store_day, zone=zone)} {_who(single, staff)}"
            for single in day.single
        ],
        exception_texts=[_exception_text(mark) for mark in marks],
        exception_badge=_exception_badge(marks),
    )


def _exception_badge(marks: list[weekly.ExceptionMark]) -> str:
    if len(marks) != 1:
        return (
            ngettext("%(count)d exception", "%(count)d exceptions", len(marks))
            % {"count": len(marks)}
            if marks
            else ""
        )
    exception = marks[0].exception
    return exception.name or (gettext("closed") if exception.closed else gettext("special hours"))


def _exception_text(mark: weekly.ExceptionMark) -> str:
    """``ExceptionMark.text`` in the page's language: "Taipei day: closed (Christmas Day)"."""
    exception = mark.exception
    hours = gettext("closed") if exception.closed else schedule.describe_exception_hours(exception)
    if exception.name:
        return gettext("%(working_time)s: %(hours)s (%(name)s)") % {
            "working_time": mark.working_time,
            "hours": hours,
            "name": exception.name,
        }
    return gettext("%(working_time)s: %(hours)s") % {
        "working_time": mark.working_time,
        "hours": hours,
    }


def _who(stretch: coverage.Stretch, staff: dict[int, Staff]) -> str:
    if not stretch.people:
        return gettext("nobody on duty")
    names = sorted(staff[person].name for person in stretch.people)
    if len(names) == 1:
        return gettext("only %(name)s") % {"name": names[0]}
    return ngettext(
        "%(count)d on duty (%(names)s)", "%(count)d on duty (%(names)s)", len(names)
    ) % {"count": len(names), "names": ", ".join(names)}


def _stretch_css(stretch: coverage.Stretch) -> str:
    if not stretch.people:
        return "gap"
    return "single" if len(stretch.people) == 1 else "covered"


def _hour_ticks(day: coverage.StoreDay, zone: ZoneInfo) -> list[Tick]:
    """Where the store's clocks show a whole hour (those in LABELLED_HOURS are major)."""
    ticks = []
    instant = day.start
    while instant < day.end:
        local = instant.astimezone(zone)
        if local.minute == 0:
            ticks.append(
                Tick(
                    _place(instant, instant, day)[0],
                    f"{local:%H}",
                    major=local.hour in LABELLED_HOURS,
                )
            )
        instant += timedelta(minutes=30)  # zones with half-hour changes exist
    return ticks


def _place(start: datetime, end: datetime, day: coverage.StoreDay) -> tuple[float, float]:
    """Left and width, in percent of the day's width, of ``[start, end)``."""
    length = day.length.total_seconds()
    left = (start - day.start).total_seconds() / length * 100
    return round(left, 3), round((end - start).total_seconds() / length * 100, 3)


def _lane_bars(
    member: Staff, *, report: weekly.CoverageReport, day: coverage.StoreDay
) -> list[Bar]:
    """The staff member's on-duty time that day, with both zones in the tooltip."""
    working_time = member.working_time
    if working_time is None:
        return []  # without a working time, never on duty (lanes list only those with one)
    intervals = report.week.shift_intervals.get(member.working_time_id, ())
    own_zone = schedule.zone_for(working_time.timezone)
    return [
        Bar(
            *_place(interval.start, interval.end, day),
            title=_bar_title(member, working_time, interval, day, report.zone, own_zone),
        )
        for interval in coverage.clip(intervals, day.start, day.end)
    ]


def _bar_title(
    member: Staff,
    working_time: WorkingTime,
    interval: coverage.Interval,
    day: coverage.StoreDay,
    store_zone: ZoneInfo,
    own_zone: ZoneInfo,
) -> str:
    """ "Mei Lin · 01:00–10:00 UTC · Taipei day: Mon 09:00–18:00 Asia/Taipei"."""
    start = weekly.local_clock(interval.start, day=day, zone=store_zone)
    end = weekly.local_clock(interval.end, day=day, zone=store_zone)
    own_start, own_end = interval.start.astimezone(own_zone), interval.end.astimezone(own_zone)
    away = gettext(" (away: not counted)") if not member.active else ""
    return (
        f"{member.name}{away} · {start}–{end} {store_zone.key} · "
        f"{working_time.name}: {format_date(own_start, gettext('D H:i'))}–{own_end:%H:%M} "
        f"{own_zone.key}"
    )


def _legend(report: weekly.CoverageReport, colors: dict[int, int]) -> list[Legend]:
    """The working times on the grid, in the order their colours were given."""
    seen: dict[int, Legend] = {}
    for member in report.staff:
        working_time = member.working_time
        if working_time is not None and working_time.pk not in seen:
            shift = report.shifts.get(working_time.pk)
            seen[working_time.pk] = Legend(
                color=colors[working_time.pk],
                name=working_time.name,
                zone=working_time.timezone,
                summary=schedule.summarize_hours(shift.ranges) if shift else "",
            )
    return list(seen.values())


def _hours(stretches) -> float:
    return sum((stretch.duration for stretch in stretches), timedelta()) / timedelta(hours=1)
