"""Fairness: sessions per staff member by kind, against their time on duty."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q

from assignment import policy, reasons
from assignment.models import AssignmentEvent, ChatSession
from assignment.reports.common import ASSIGNMENT_KINDS, FAIRNESS_PERIODS, roster
from staff import coverage, schedule
from staff.models import Staff


@dataclass(frozen=True)
class FirstResponses:
    """First response times (a session's creation to its first staff message) of the
    sessions a staff member answered first: how many, the median and the 90th percentile
    (nearest rank: the smallest time at least 90 % of them were within)."""

    count: int
    median: timedelta
    p90: timedelta

    @classmethod
    def of(cls, times: list[timedelta]) -> FirstResponses | None:
        if not times:
            return None
        ordered = sorted(times)
        middle = len(ordered) // 2
        median = (
            ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        )
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return cls(len(ordered), median, p90)

    @property
    def median_text(self) -> str:
        text = policy.describe_duration(self.median)
        return reasons.duration_in_language(text) or text

    @property
    def p90_text(self) -> str:
        text = policy.describe_duration(self.p90)
        return reasons.duration_in_language(text) or text


@dataclass
class FairnessRow:
    staff: Staff
    by_kind: dict[str, int] = field(default_factory=dict)  # assignment kinds only
    other_events: dict[str, int] = field(default_factory=dict)  # any other kind
    on_duty: timedelta = timedelta()
    team_rate: float | None = None
    responses: FirstResponses | None = None  # the first responses this staff member sent
    reassigned_away: int = 0  # sessions reassigned away from them, unanswered

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
    kind, other events, time on duty by their current working time, first response times
    (of first responses sent in the period) and sessions reassigned away. Five queries.

    On-duty time comes from each staff member's *current* working time over the whole
    period (neither past working times nor past absences are recorded).
    """
    starts = {days: now - timedelta(days=days) for days in periods}
    counts = _event_counts(starts=starts, now=now)
    response_times = _first_response_times(starts=starts, now=now)
    reassigned_away = _reassigned_away_counts(starts=starts, now=now)
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
                exceptions=hours.exceptions,
            )
            for working_time_id, hours in shifts.items()
            if working_time_id in staffed
        }
        rows = [
            _fairness_row(member, counts.get(member.pk, {}), days, on_duty) for member in members
        ]
        for row in rows:
            row.responses = FirstResponses.of(response_times.get(row.staff.pk, {}).get(days, []))
            row.reassigned_away = reassigned_away.get(row.staff.pk, {}).get(days, 0)
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
        # The plugin types the row with the values() keys only; the last_N keys come from
        # the annotate(**...) above, so they are read through the row as a plain mapping.
        by_name: Mapping[str, object] = row
        counts[row["staff_id"]][row["kind"]] = {
            days: _count(by_name[f"last_{days}"]) for days in starts
        }
    return counts


def _first_response_times(
    *, starts: dict[int, datetime], now: datetime
) -> dict[int, dict[int, list[timedelta]]]:
    """staff id -> days -> the first response times they sent in the period: one query."""
    rows = ChatSession.objects.filter(
        first_response_at__gte=min(starts.values()), first_response_at__lte=now
    ).values_list("first_response_staff_id", "created_at", "first_response_at")
    times: dict[int, dict[int, list[timedelta]]] = defaultdict(lambda: defaultdict(list))
    for staff_id, created_at, first_response_at in rows:
        if staff_id is None or first_response_at is None:  # the filter excludes these
            continue
        for days, start in starts.items():
            if first_response_at >= start:
                times[staff_id][days].append(first_response_at - created_at)
    return times


def _reassigned_away_counts(
    *, starts: dict[int, datetime], now: datetime
) -> dict[int, dict[int, int]]:
    """staff id -> days -> sessions reassigned away from them (unanswered): one query."""
    rows = (
        AssignmentEvent.objects.filter(
            kind=AssignmentEvent.Kind.REASSIGNED,
            created_at__gte=min(starts.values()),
            created_at__lte=now,
        )
        .order_by()
        .values_list("reassigned_from_id", "created_at")
    )
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for staff_id, created_at in rows:
        for days, start in starts.items():
            if created_at >= start:
                counts[staff_id][days] += 1
    return counts


def _count(value: object) -> int:
    """A Count() read from a row: an int on every database."""
    if not isinstance(value, int):
        raise TypeError(f"A count is an int, not {value!r}.")
    return value


def _fairness_row(
    member: Staff,
    counts: dict[str, dict[int, int]],
    days: int,
    on_duty: dict[int, timedelta],
) -> FairnessRow:
    on_duty_time = timedelta()  # without a working time, never on duty
    if member.working_time_id is not None:
        on_duty_time = on_duty.get(member.working_time_id, timedelta())
    row = FairnessRow(staff=member, on_duty=on_duty_time)
    for kind in ASSIGNMENT_KINDS:
        row.by_kind[kind] = counts.get(kind, {}).get(days, 0)
    for kind, by_days in counts.items():
        if kind not in ASSIGNMENT_KINDS and by_days[days]:
            row.other_events[kind] = by_days[days]
    return row
