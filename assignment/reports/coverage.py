"""Coverage: who covers the store in a week, with the gaps and the single-cover stretches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from assignment import policy
from assignment.reports.common import roster
from staff import coverage, schedule
from staff.models import Staff


@dataclass(frozen=True)
class CoverageReport:
    zone: ZoneInfo
    week: coverage.WeekCoverage
    staff: list[Staff]
    shifts: dict[int, coverage.Shift]

    def staff_by_id(self) -> dict[int, Staff]:
        return {member.pk: member for member in self.staff}

    def exceptions_on(self, day: date) -> list[ExceptionMark]:
        """The dated exceptions of the staffed working times on ``day`` (their own local
        date), by working time name."""
        names = {
            member.working_time_id: member.working_time.name
            for member in self.staff
            if member.working_time is not None
        }
        return sorted(
            ExceptionMark(names[key], shift.exceptions[day])
            for key, shift in self.shifts.items()
            if key in names and day in shift.exceptions
        )


@dataclass(frozen=True, order=True)
class ExceptionMark:
    """A working time's exception on a day, as the week shows it."""

    working_time: str
    exception: schedule.DateException

    @property
    def text(self) -> str:
        """ "Taipei day: closed (Christmas Day)", "Taipei day: 09:00-15:00 (New Year's Eve)"."""
        label = f" ({self.exception.name})" if self.exception.name else ""
        return f"{self.working_time}: {schedule.describe_exception_hours(self.exception)}{label}"

    def as_json(self) -> dict:
        return {
            "working_time": self.working_time,
            "name": self.exception.name,
            "closed": self.exception.closed,
            "hours": schedule.exceptions_to_config([self.exception])[
                self.exception.day.isoformat()
            ],
        }


def coverage_report(*, week_of: date, zone: ZoneInfo) -> CoverageReport:
    """Who covers the store in the week (Monday to Sunday, in ``zone``) containing
    ``week_of`` (between FIRST_DAY and LAST_DAY). Two queries."""
    shifts = {
        hours.id: coverage.Shift(schedule.zone_for(hours.zone_name), hours.ranges, hours.exceptions)
        for hours in policy.working_time_hours()
    }
    members = roster()
    week = coverage.week_coverage(
        week_start=coverage.week_start(week_of),
        store_zone=zone,
        shifts=shifts,
        roster=[
            coverage.RosterEntry(member.pk, member.working_time_id, member.active)
            for member in members
        ],
    )
    return CoverageReport(zone=zone, week=week, staff=members, shifts=shifts)


def day_change(day: coverage.StoreDay, zone: ZoneInfo) -> str | None:
    """ "clocks go forward 1 h at 01:00" when the store's clocks change that day, else None."""
    changes = coverage.offset_changes(zone, day.start, day.end)
    if not changes:
        return None
    parts = []
    for instant, before, after in changes:
        wall = (instant + before).replace(tzinfo=None)
        names = {"duration": _duration_text(abs(after - before)), "time": f"{wall:%H:%M}"}
        if after > before:
            parts.append(gettext("clocks go forward %(duration)s at %(time)s") % names)
        else:
            parts.append(gettext("clocks go back %(duration)s at %(time)s") % names)
    return "; ".join(parts)


def local_clock(instant: datetime, *, day: coverage.StoreDay, zone: ZoneInfo) -> str:
    """ "09:30" in ``zone``; "24:00" for the end of ``day``. On a day the clocks change, the
    zone's abbreviation is added ("01:30 BST"), since a time may then occur twice."""
    if instant == day.end:
        return "24:00"
    local = instant.astimezone(zone)
    text = f"{local:%H:%M}"
    if day.start.astimezone(zone).utcoffset() != day.end.astimezone(zone).utcoffset():
        text += f" {local:%Z}"
    return text


def stretch_text(stretch: coverage.Stretch, *, day: coverage.StoreDay, zone: ZoneInfo) -> str:
    """ "09:00–12:30 (3 h 30 min)" in the store's zone."""
    start = local_clock(stretch.start, day=day, zone=zone)
    end = local_clock(stretch.end, day=day, zone=zone)
    return f"{start}–{end} ({_duration_text(stretch.duration)})"


def _duration_text(duration: timedelta) -> str:
    minutes = round(duration.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return gettext("%(hours)d h") % {"hours": hours}
    return gettext("%(minutes)d min") % {"minutes": minutes}


def coverage_as_json(report: CoverageReport) -> dict:
    """The report for scripts: instants in ISO 8601 with the store's offset."""
    staff = report.staff_by_id()

    def when(instant: datetime) -> str:
        return instant.astimezone(report.zone).isoformat()

    def stretch(item: coverage.Stretch, *, with_staff: bool = False) -> dict:
        entry = {
            "start": when(item.start),
            "end": when(item.end),
            "minutes": round(item.duration.total_seconds() / 60),
        }
        if with_staff:
            (person,) = item.people
            member = staff[person]
            entry["staff"] = {"id": member.pk, "name": member.name, "email": member.email}
        return entry

    return {
        "store_time_zone": report.zone.key,
        "week_start": report.week.days[0].day.date.isoformat(),
        "week_end": report.week.days[-1].day.date.isoformat(),
        "days": [
            {
                "date": day.day.date.isoformat(),
                "start": when(day.day.start),
                "end": when(day.day.end),
                "hours": day.day.hours,
                "clock_change": day_change(day.day, report.zone),
                "exceptions": [mark.as_json() for mark in report.exceptions_on(day.day.date)],
                "gaps": [stretch(gap) for gap in day.gaps],
                "single": [stretch(single, with_staff=True) for single in day.single],
            }
            for day in report.week.days
        ],
    }


def coverage_as_lines(report: CoverageReport) -> list[str]:
    """The report for people: one block per day, times in the store's zone."""
    staff = report.staff_by_id()
    days = report.week.days
    lines = [
        f"Coverage {days[0].day.date:%a %Y-%m-%d} to {days[-1].day.date:%a %Y-%m-%d}, "
        f"times in {report.zone.key}:"
    ]
    for day in days:
        heading = f"{day.day.date:%a %Y-%m-%d}"
        if change := day_change(day.day, report.zone):
            heading += f" ({_duration_text(day.day.length)} day: {change})"
        lines.append(heading)
        for mark in report.exceptions_on(day.day.date):
            lines.append(f"  exception:       {mark.text}")
        if day.gaps:
            gaps = ", ".join(stretch_text(gap, day=day.day, zone=report.zone) for gap in day.gaps)
            lines.append(f"  nobody on duty:  {gaps}")
        for single in day.single:
            (person,) = single.people
            member = staff[person]
            lines.append(
                f"  only one person: {stretch_text(single, day=day.day, zone=report.zone)} "
                f"{member.name} <{member.email}>"
            )
        if not day.gaps and not day.single:
            lines.append("  at least two people on duty all day")
    return lines
