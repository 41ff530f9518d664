"""Next in line: who would get a session created at an instant, in order, and why not the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils.translation import gettext

from assignment import handover, policy
from assignment.models import ChatSession
from assignment.reports.common import roster
from staff import schedule
from staff.models import Staff


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
    hours = policy.working_time_hours()
    on_duty = set(policy.working_times_on_duty(hours, at))
    closed_by = {item.id: text for item in hours if (text := _closed_by_exception(item, at))}
    candidates = list(
        policy.staff_in_line(on_duty_working_time_ids=on_duty).select_related("working_time")
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
            not_in_line=_why_not_in_line(member, on_duty, closed_by),
            local_time=_local_time(member, at),
        )
        for member in roster()
        if member.pk not in chosen
    ]
    return NextInLine(at=at, now=now, in_line=in_line, not_in_line=not_in_line)


def _closed_by_exception(hours: policy.WorkingTimeHours, at: datetime) -> str | None:
    """ "closed today: Christmas Day" when a dated exception is why ``hours`` are off duty
    at ``at`` (the weekly hours alone would be on), else None."""
    zone = schedule.zone_for(hours.zone_name)
    if hours.on_duty(at) or not schedule.is_on_duty(hours.ranges, zone, at):
        return None
    today = at.astimezone(zone).date()
    exception = hours.exceptions.get(today)
    yesterday = False
    if exception is None:  # the weekly range that would run past midnight into today
        exception = hours.exceptions.get(today - timedelta(days=1))
        yesterday = True
    if exception is None:
        return None
    label = exception.name or exception.day.isoformat()
    if exception.closed:
        closed = (
            gettext("closed yesterday: %(name)s")
            if yesterday
            else gettext("closed today: %(name)s")
        )
        return closed % {"name": label}
    special = (
        gettext("special hours yesterday: %(name)s (%(hours)s)")
        if yesterday
        else gettext("special hours today: %(name)s (%(hours)s)")
    )
    return special % {"name": label, "hours": schedule.describe_exception_hours(exception)}


def _why_not_in_line(
    member: Staff, on_duty: set[int], closed_by: dict[int, str]
) -> tuple[str, ...]:
    reasons = []
    if not member.active:
        reasons.append(gettext("away"))
    if member.working_time_id is None:
        reasons.append(gettext("no working time"))
    elif member.working_time_id not in on_duty:
        reasons.append(closed_by.get(member.working_time_id, gettext("off duty")))
    if not member.has_room:
        reasons.append(
            gettext("at capacity (%(open)d of %(capacity)d)")
            % {"open": member.open_sessions, "capacity": member.max_open_sessions}
        )
    # None applies only if the data changed between the two reads.
    return tuple(reasons) or (gettext("changed just now"),)


def _local_time(member: Staff, at: datetime) -> datetime | None:
    if member.working_time is None:
        return None
    return at.astimezone(schedule.zone_for(member.working_time.timezone))


@dataclass(frozen=True)
class QueueCounts:
    waiting: int  # open sessions nobody has: the waiting queue
    unanswered: int  # open, assigned sessions with no staff message since their assignment


def queue_counts() -> QueueCounts:
    """The waiting queue and the unanswered sessions, counted in one query."""
    counts = ChatSession.objects.filter(status=ChatSession.Status.OPEN).aggregate(
        waiting=Count("id", filter=Q(assigned_staff__isnull=True)),
        unanswered=Count("id", filter=handover.unanswered()),
    )
    return QueueCounts(waiting=counts["waiting"], unanswered=counts["unanswered"])
