"""What the reports share: the store's zone, the roster, event kinds and dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from assignment.models import AssignmentEvent
from staff.models import Staff

# The kinds of event that give a session to a staff member, in the order they are shown.
# Any other kind (a return to the waiting queue, say) is counted apart, never as assigned.
ASSIGNMENT_KINDS = (
    AssignmentEvent.Kind.AUTOMATIC.value,
    AssignmentEvent.Kind.QUEUE.value,
    AssignmentEvent.Kind.MANUAL.value,
    AssignmentEvent.Kind.REASSIGNED.value,  # counts as the next staff member's assignment
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
