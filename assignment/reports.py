"""Selectors for the manager's reports: the coverage of a week, who is next in line, and how
evenly sessions were spread relative to time on duty.

Read-only, each in a fixed number of queries whatever the number of staff or events (the
counting happens in the database; the schedule maths runs once per working time, not per
staff member). Time is a parameter: callers pass ``now`` and the store's zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from assignment import policy
from assignment.models import AssignmentEvent
from staff import coverage, schedule
from staff.models import Staff

# The kinds of event that give a session to a staff member, in the order they are shown.
# Any other kind (a return to the waiting queue, say) is counted apart, never as assigned.
ASSIGNMENT_KINDS = (
    AssignmentEvent.Kind.AUTOMATIC.value,
    AssignmentEvent.Kind.QUEUE.value,
    AssignmentEvent.Kind.MANUAL.value,
)
FAIRNESS_PERIODS = (7, 30)
# The days a report may be asked about: a week around any of them, in any zone, stays
# inside what datetime can hold.
FIRST_DAY = date.min + timedelta(days=7)
LAST_DAY = date.max - timedelta(days=14)


def store_zone() -> ZoneInfo:
    """The zone the store's reports are shown in (``STORE_TIME_ZONE``)."""
    return ZoneInfo(settings.STORE_TIME_ZONE)


def roster() -> list[Staff]:
    """Every staff member with their working time, in the order they were added."""
    return list(Staff.objects.select_related("working_time").order_by("id"))


def kind_label(kind: str) -> str:
    """The label of an event kind; a kind this code does not know yet reads sensibly too."""
    if kind in AssignmentEvent.Kind.values:
        return str(AssignmentEvent.Kind(kind).label)
    return kind.replace("_", " ").replace("-", " ").capitalize()


# --- Coverage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageReport:
    zone: ZoneInfo
    week: coverage.WeekCoverage
    staff: list[Staff]
    shifts: dict[int, coverage.Shift]

    def staff_by_id(self) -> dict[int, Staff]:
        return {member.pk: member for member in self.staff}


def coverage_report(*, week_of: date, zone: ZoneInfo) -> CoverageReport:
    """Who covers the store in the week (Monday to Sunday, in ``zone``) containing
    ``week_of`` (between FIRST_DAY and LAST_DAY). Two queries."""
    shifts = {
        hours.id: coverage.Shift(schedule.zone_for(hours.zone_name), hours.ranges)
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
        direction = "forward" if after > before else "back"
        wall = (instant + before).replace(tzinfo=None)
        parts.append(f"clocks go {direction} {_duration_text(abs(after - before))} at {wall:%H:%M}")
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
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


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


# --- Next in line ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineEntry:
    staff: Staff
    position: int | None  # 1 = next in line; None = not in line
    reason: str  # why at this place: "never assigned", "last assigned 12 min ago"
    not_in_line: tuple[str, ...] = ()  # why not in line: "away", "off duty", ...
    local_time: datetime | None = None  # the instant asked about, in their working time's zone


@dataclass(frozen=True)
class NextInLine:
    at: datetime
    now: datetime
    in_line: list[LineEntry]
    not_in_line: list[LineEntry]


def next_in_line(*, at: datetime, now: datetime) -> NextInLine:
    """Who would get a session created at ``at``, in order, and everyone else with why not.

    As ``on_duty --at``: working hours are judged at ``at``; order and capacity come from the
    current data, and the reason ("last assigned N min ago") is as of ``now``. Three queries.
    """
    on_duty = set(policy.working_times_on_duty(policy.working_time_hours(), at))
    candidates = list(
        policy.staff_candidates(on_duty_working_time_ids=sorted(on_duty)).select_related(
            "working_time"
        )
    )
    in_line = [
        LineEntry(
            staff=member,
            position=position,
            reason=policy.describe_reason(previous=member.last_assigned_at, now=now),
            local_time=_local_time(member, at),
        )
        for position, member in enumerate(candidates, start=1)
    ]
    chosen = {member.pk for member in candidates}
    not_in_line = [
        LineEntry(
            staff=member,
            position=None,
            reason=policy.describe_reason(previous=member.last_assigned_at, now=now),
            not_in_line=_why_not_in_line(member, on_duty),
            local_time=_local_time(member, at),
        )
        for member in roster()
        if member.pk not in chosen
    ]
    return NextInLine(at=at, now=now, in_line=in_line, not_in_line=not_in_line)


def _why_not_in_line(member: Staff, on_duty: set[int]) -> tuple[str, ...]:
    reasons = []
    if not member.active:
        reasons.append("away")
    if member.working_time_id is None:
        reasons.append("no working time")
    elif member.working_time_id not in on_duty:
        reasons.append("off duty")
    if not member.has_room:
        reasons.append(f"at capacity ({member.open_sessions} of {member.max_open_sessions})")
    # None applies only if the data changed between the two reads.
    return tuple(reasons) or ("changed just now",)


def _local_time(member: Staff, at: datetime) -> datetime | None:
    if member.working_time is None:
        return None
    return at.astimezone(schedule.zone_for(member.working_time.timezone))


# --- Fairness ----------------------------------------------------------------------------------


@dataclass
class FairnessRow:
    staff: Staff
    by_kind: dict[str, int] = field(default_factory=dict)  # assignment kinds only
    other_events: dict[str, int] = field(default_factory=dict)  # any other kind
    on_duty: timedelta = timedelta()
    team_rate: float | None = None

    @property
    def assigned(self) -> int:
        return sum(self.by_kind.values())

    @property
    def on_duty_hours(self) -> float:
        return self.on_duty / timedelta(hours=1)

    @property
    def per_hour(self) -> float | None:
        """Sessions assigned per on-duty hour; None without on-duty hours."""
        return self.assigned / self.on_duty_hours if self.on_duty else None

    @property
    def versus_team(self) -> float | None:
        """``per_hour`` as a multiple of the team's rate (1.0 = exactly the team's)."""
        if self.per_hour is None or not self.team_rate:
            return None
        return self.per_hour / self.team_rate


@dataclass
class FairnessPeriod:
    days: int
    start: datetime
    end: datetime
    rows: list[FairnessRow]

    @property
    def assigned(self) -> int:
        return sum(row.assigned for row in self.rows)

    @property
    def on_duty_hours(self) -> float:
        return sum(row.on_duty_hours for row in self.rows)

    @property
    def team_rate(self) -> float | None:
        """Sessions per on-duty hour over the staff who had on-duty hours."""
        hours = self.on_duty_hours
        if not hours:
            return None
        return sum(row.assigned for row in self.rows if row.on_duty) / hours

    @property
    def other_kinds(self) -> list[str]:
        return sorted({kind for row in self.rows for kind in row.other_events})


def fairness(*, now: datetime, periods: tuple[int, ...] = FAIRNESS_PERIODS) -> list[FairnessPeriod]:
    """Per staff member and period (the last N days up to ``now``): sessions assigned by
    kind, other events, and time on duty by their current working time. Three queries.

    On-duty time comes from each staff member's *current* working time over the whole
    period (neither past working times nor past absences are recorded).
    """
    starts = {days: now - timedelta(days=days) for days in periods}
    counts = _event_counts(starts=starts, now=now)
    shifts = {hours.id: hours for hours in policy.working_time_hours()}
    members = roster()
    staffed = {member.working_time_id for member in members}
    result = []
    for days, start in starts.items():
        on_duty = {
            working_time_id: coverage.on_duty_time(
                ranges=hours.ranges,
                zone=schedule.zone_for(hours.zone_name),
                start=start,
                end=now,
            )
            for working_time_id, hours in shifts.items()
            if working_time_id in staffed
        }
        rows = [
            _fairness_row(member, counts.get(member.pk, {}), days, on_duty) for member in members
        ]
        period = FairnessPeriod(days=days, start=start, end=now, rows=rows)
        for row in rows:
            row.team_rate = period.team_rate
        result.append(period)
    return result


def _event_counts(
    *, starts: dict[int, datetime], now: datetime
) -> dict[int, dict[str, dict[int, int]]]:
    """staff id -> kind -> days -> number of events, counted in one query."""
    earliest = min(starts.values())
    rows = (
        AssignmentEvent.objects.filter(created_at__gte=earliest, created_at__lte=now)
        .order_by()
        .values("staff_id", "kind")
        .annotate(
            **{
                f"last_{days}": Count("id", filter=Q(created_at__gte=start))
                for days, start in starts.items()
            }
        )
    )
    counts: dict[int, dict[str, dict[int, int]]] = defaultdict(dict)
    for row in rows:
        counts[row["staff_id"]][row["kind"]] = {days: row[f"last_{days}"] for days in starts}
    return counts


def _fairness_row(
    member: Staff,
    counts: dict[str, dict[int, int]],
    days: int,
    on_duty: dict[int, timedelta],
) -> FairnessRow:
    row = FairnessRow(staff=member, on_duty=on_duty.get(member.working_time_id, timedelta()))
    for kind in ASSIGNMENT_KINDS:
        row.by_kind[kind] = counts.get(kind, {}).get(days, 0)
    for kind, by_days in counts.items():
        if kind not in ASSIGNMENT_KINDS and by_days[days]:
            row.other_events[kind] = by_days[days]
    return row


def parse_week_of(text: str) -> date:
    """A date "YYYY-MM-DD"; ValueError saying what is wrong otherwise."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date of the form YYYY-MM-DD.") from None
    if len(text) != 10:  # fromisoformat also takes "20260330" and week dates
        raise ValueError(f"{text!r} is not a date of the form YYYY-MM-DD.")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text!r} is outside the calendar this report can show.")
    return day


def today_in(zone: ZoneInfo, *, now: datetime) -> date:
    return now.astimezone(zone).date()
