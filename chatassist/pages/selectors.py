"""What the settings page reads, in a fixed number of queries however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Prefetch
from django.utils.timesince import timesince
from django.utils.translation import gettext

from staff.models import Staff, WorkingTime

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
