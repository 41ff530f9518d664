"""What the settings page reads, in a fixed number of queries however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Prefetch
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext

from staff import schedule
from staff.models import Staff, WorkingTime, WorkingTimeException

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Usage(TypedDict):
    staff_count: int


def working_times_with_usage(
    *, with_staff_names: bool = False
) -> list[WithAnnotations[WorkingTime, Usage]]:
    """Every working time with ``staff_count``, ``summary_text`` and, if asked,
    ``staff_members`` (who uses it): two queries, three with the names."""
    queryset = WorkingTime.objects.annotate(staff_count=Count("staff")).prefetch_related(
        "weekly_ranges"
    )
    if with_staff_names:
        queryset = queryset.prefetch_related(
            Prefetch(
                "staff",
                queryset=Staff.objects.only("id", "name", "working_time_id").order_by("name", "id"),
                to_attr="staff_members",
            )
        )
    return list(queryset.order_by("name"))


@dataclass(frozen=True)
class WorkingTimeRow:
    """A working time as the "Working time" tab lists it, with its next dated exception."""

    working_time: WorkingTime
    next_exception: schedule.DateException | None

    @property
    def next_exception_text(self) -> str:
        """ "Fri 25 Dec 2026: closed (Christmas Day)", or "" when none is coming."""
        exception = self.next_exception
        if exception is None:
            return ""
        day = date_format(exception.day, "DATE_FORMAT")
        hours = (
            gettext("closed") if exception.closed else schedule.describe_exception_hours(exception)
        )
        if exception.name:
            return gettext("%(date)s: %(hours)s (%(name)s)") % {
                "date": day,
                "hours": hours,
                "name": exception.name,
            }
        return gettext("%(date)s: %(hours)s") % {"date": day, "hours": hours}


def working_time_rows(working_times: list[WorkingTime], *, now: datetime) -> list[WorkingTimeRow]:
    """Each working time with its next exception: today or later in its own zone. One query."""
    # Every zone's today is within a day of UTC's, so one lower bound serves them all.
    rows = (
        WorkingTimeException.objects.filter(date__gte=(now - timedelta(days=1)).date())
        .order_by("working_time_id", "date", "ranges__start_minute")
        .values_list(
            "working_time_id", "date", "name", "ranges__start_minute", "ranges__end_minute"
        )
    )
    upcoming: dict[int, dict] = {}
    for working_time_id, day, name, start, end in rows:
        day_ranges = upcoming.setdefault(working_time_id, {}).setdefault((day, name), [])
        if start is not None and end is not None:
            day_ranges.append((start, end))
    result = []
    for working_time in working_times:
        today = now.astimezone(working_time.zone).date()
        coming = [
            schedule.DateException(day, tuple(day_ranges), name)
            for (day, name), day_ranges in upcoming.get(working_time.pk, {}).items()
            if day >= today
        ]
        result.append(WorkingTimeRow(working_time, coming[0] if coming else None))
    return result


@dataclass(frozen=True)
class StaffRow:
    """A staff member as the "Automatically assigning sessions" tab lists them."""

    staff: Staff
    selected_id: int | None  # the working time the row's dropdown has chosen
    pending: bool  # chosen but not saved yet (just created for this row)
    last_assigned: str  # "12 min ago", "Never"

    @property
    def at_capacity(self) -> bool:
        return not self.staff.has_room


def staff_rows(*, now: datetime, pending: tuple[int, int] | None = None) -> list[StaffRow]:
    """Every staff member, by name, with their working time: one query.

    ``pending`` is ``(staff id, working time id)``: a choice to show as made but unsaved.
    """
    rows = []
    for member in Staff.objects.select_related("working_time").order_by("name", "id"):
        pending_id = pending[1] if pending is not None and pending[0] == member.pk else None
        rows.append(
            StaffRow(
                staff=member,
                selected_id=member.working_time_id if pending_id is None else pending_id,
                pending=pending_id is not None,
                last_assigned=_ago(member.last_assigned_at, now),
            )
        )
    return rows


def _ago(instant: datetime | None, now: datetime) -> str:
    """ "12 minutes ago" in the page's language (Django's timesince: its catalogues know
    every language's plural forms)."""
    if instant is None:
        return gettext("Never")
    return gettext("%(duration)s ago") % {"duration": timesince(instant, now, depth=2)}
