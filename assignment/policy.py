"""The assignment policy: who gets a session, and the bookkeeping that keeps it fair.

Among staff who are active, on duty at the moment of the decision and under their capacity,
the session goes to a staff member never assigned before, else to the one whose last
assignment is the oldest; ties go to the staff member added first (lowest id).

How it stays exact under concurrency
------------------------------------
Every decision that reads or changes "who is next" (automatic, from the queue, manual)
first locks the store's single ``AssignmentSettings`` row (``SELECT ... FOR UPDATE``) and
holds it until its transaction commits. Deciding who is next is inherently sequential: each
assignment changes the answer for the next one, so there is no parallelism to lose, and one
lock makes every decision see all earlier ones. The alternatives fail in known ways:

* ``ORDER BY last_assigned_at LIMIT 1 FOR UPDATE`` on staff rows: after waiting for the
  lock, PostgreSQL re-checks the row but does not re-sort, so the staff member just
  assigned is returned again.
* ``SKIP LOCKED`` on staff rows: a session is queued while staff are free but locked.
* reading ``now`` or capacity before the lock is granted: stamps land out of order and a
  staff member can be given more than their capacity.

So, in this order and inside one transaction: lock the settings row (which also reads the
toggle), read the clock, pick the candidate with one query, then update the staff row and
the session. The working times are read before the lock: they are configuration, and
evaluating them is pure Python. On SQLite, transactions start with ``BEGIN IMMEDIATE``
(see settings), which serialises writers the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.utils import timezone

from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from staff import schedule
from staff.models import Staff, WorkingRange

Outcome = Literal["assigned", "queued", "manual"]


class AssignmentError(Exception):
    """A manual assignment or close that cannot be done; the message says why."""


@dataclass(frozen=True)
class AssignmentOutcome:
    status: Outcome
    staff: Staff | None = None
    event: AssignmentEvent | None = None


@dataclass(frozen=True)
class WorkingTimeHours:
    id: int
    zone_name: str
    ranges: tuple[schedule.WeeklyRange, ...]

    def on_duty(self, at: datetime) -> bool:
        return schedule.is_on_duty(self.ranges, schedule.zone_for(self.zone_name), at)


# --- Selectors ---------------------------------------------------------------------------


def working_time_hours() -> list[WorkingTimeHours]:
    """Every working time's zone and ranges, in one query."""
    rows = WorkingRange.objects.values_list(
        "working_time_id", "working_time__timezone", "weekday", "start_minute", "end_minute"
    )
    collected: dict[int, tuple[str, list[schedule.WeeklyRange]]] = {}
    for working_time_id, zone_name, weekday, start, end in rows:
        collected.setdefault(working_time_id, (zone_name, []))[1].append(
            schedule.WeeklyRange(weekday, start, end)
        )
    return [
        WorkingTimeHours(working_time_id, zone_name, tuple(sorted(ranges)))
        for working_time_id, (zone_name, ranges) in collected.items()
    ]


def working_times_on_duty(hours: Iterable[WorkingTimeHours], at: datetime) -> list[int]:
    return [working_time.id for working_time in hours if working_time.on_duty(at)]


def staff_candidates(*, on_duty_working_time_ids: list[int]) -> QuerySet[Staff]:
    """Active staff of the given working times with room, next in line first."""
    return (
        Staff.objects.filter(active=True, working_time_id__in=on_duty_working_time_ids)
        .filter(Q(max_open_sessions__isnull=True) | Q(open_sessions__lt=F("max_open_sessions")))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )


def staff_on_duty(*, at: datetime) -> list[Staff]:
    """Staff who would be considered for a session created at ``at``, in assignment order.

    Working hours are judged at ``at``; order and capacity come from the current data.
    """
    on_duty = working_times_on_duty(working_time_hours(), at)
    return list(staff_candidates(on_duty_working_time_ids=on_duty).select_related("working_time"))


def auto_assign_enabled() -> bool:
    return AssignmentSettings.objects.filter(
        pk=AssignmentSettings.SINGLETON_ID, auto_assign=True
    ).exists()


# --- The lock ------------------------------------------------------------------------------


def lock_assignment_settings() -> AssignmentSettings:
    """Take the store-wide assignment lock (see the module docstring) and return the row.

    Must run inside a transaction. Creates the row if a flush removed it.
    """
    locked = AssignmentSettings.objects.select_for_update()
    row = locked.filter(pk=AssignmentSettings.SINGLETON_ID).first()
    if row is None:
        AssignmentSettings.objects.bulk_create([AssignmentSettings()], ignore_conflicts=True)
        row = locked.get(pk=AssignmentSettings.SINGLETON_ID)
    return row


# --- Automatic assignment ------------------------------------------------------------------


def session_assign_on_creation(*, session: ChatSession, now: datetime | None = None) -> None:
    """Called by the post_save receiver when a session is created, in its transaction.

    Leaves the outcome on ``session.assignment_outcome`` for whoever created the session.
    """
    # Joins the creator's transaction; opens one when the session was saved in autocommit.
    with transaction.atomic(savepoint=False):
        hours = working_time_hours()
        settings_row = lock_assignment_settings()
        if not settings_row.auto_assign:
            session.assignment_outcome = AssignmentOutcome("manual")
            return
        session.assignment_outcome = _assign_next_in_line(
            session=session, hours=hours, now=now, kind=AssignmentEvent.Kind.AUTOMATIC
        )


def _assign_next_in_line(
    *,
    session: ChatSession,
    hours: list[WorkingTimeHours],
    now: datetime | None,
    kind: AssignmentEvent.Kind,
) -> AssignmentOutcome:
    """Give ``session`` to the staff member next in line. Caller holds the lock."""
    # The clock is read only now that the lock is held, so stamps land in lock order.
    now = now or timezone.now()
    on_duty = working_times_on_duty(hours, now)
    chosen = (
        staff_candidates(on_duty_working_time_ids=on_duty)
        .annotate(candidate_count=Window(Count("id")))
        .only("id", "name", "email", "last_assigned_at")
        .first()
    )
    if chosen is None:
        return AssignmentOutcome("queued")
    reason = describe_reason(previous=chosen.last_assigned_at, now=now)
    if kind == AssignmentEvent.Kind.QUEUE:
        reason = f"from the waiting queue; {reason}"
    event = _record_assignment(
        session=session,
        staff=chosen,
        now=now,
        kind=kind,
        reason=reason,
        candidates=chosen.candidate_count,
    )
    return AssignmentOutcome("assigned", chosen, event)


def _record_assignment(
    *,
    session: ChatSession,
    staff: Staff,
    now: datetime,
    kind: AssignmentEvent.Kind,
    reason: str,
    candidates: int | None,
    assigned_by=None,
) -> AssignmentEvent:
    Staff.objects.filter(pk=staff.pk).update(
        last_assigned_at=now, open_sessions=F("open_sessions") + 1
    )
    ChatSession.objects.filter(pk=session.pk).update(assigned_staff=staff, assigned_at=now)
    staff.last_assigned_at = now
    session.assigned_staff, session.assigned_at = staff, now
    return AssignmentEvent.objects.create(
        session=session,
        staff=staff,
        kind=kind,
        reason=reason[:255],
        candidates=candidates,
        assigned_by=assigned_by,
        created_at=now,
    )


def describe_reason(*, previous: datetime | None, now: datetime) -> str:
    if previous is None:
        return "never assigned"
    return f"last assigned {describe_duration(now - previous)} ago"


def describe_duration(elapsed: timedelta) -> str:
    """ "3 h 12 min", "45 s", "2 d 4 h": coarse enough to read at a glance."""
    seconds = max(int(elapsed.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


# --- The waiting queue -----------------------------------------------------------------------


def waiting_sessions() -> QuerySet[ChatSession]:
    return ChatSession.objects.filter(
        status=ChatSession.Status.OPEN, assigned_staff__isnull=True
    ).order_by("created_at", "id")


def assign_one_waiting(*, now: datetime | None = None) -> AssignmentOutcome | None:
    """Assign the oldest waiting session; None when there is nothing (more) to do.

    Safe to run from several processes at once: each decision holds the assignment lock,
    and the session row is re-read under it, so no session is assigned twice.
    """
    with transaction.atomic():
        hours = working_time_hours()
        if not lock_assignment_settings().auto_assign:
            return None
        session = waiting_sessions().select_for_update(of=("self",)).first()
        if session is None:
            return None
        outcome = _assign_next_in_line(
            session=session, hours=hours, now=now, kind=AssignmentEvent.Kind.QUEUE
        )
        return outcome if outcome.status == "assigned" else None


# --- Manual assignment and closing -------------------------------------------------------------


def session_assign_manually(
    *, session: ChatSession, staff: Staff, assigned_by, now: datetime | None = None
) -> AssignmentEvent:
    """A manager gives ``session`` to ``staff``; it counts as their last assignment."""
    with transaction.atomic():
        lock_assignment_settings()
        now = now or timezone.now()
        current = ChatSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
        target = Staff.objects.get(pk=staff.pk)
        if current.status != ChatSession.Status.OPEN:
            raise AssignmentError(f"Session #{current.pk} is closed.")
        if current.assigned_staff_id == target.pk:
            raise AssignmentError(f"Session #{current.pk} is already assigned to {target.name}.")
        if not target.has_room:
            raise AssignmentError(
                f"{target.name} is at capacity ({target.open_sessions} of "
                f"{target.max_open_sessions} open sessions)."
            )
        if current.assigned_staff_id is not None:
            _release(staff_id=current.assigned_staff_id)
        who = assigned_by.get_username() if assigned_by is not None else "an operator"
        event = _record_assignment(
            session=current,
            staff=target,
            now=now,
            kind=AssignmentEvent.Kind.MANUAL,
            reason=f"manual by {who}",
            candidates=None,
            assigned_by=assigned_by,
        )
    session.assigned_staff, session.assigned_at = target, now
    return event


def session_close(*, session: ChatSession, now: datetime | None = None) -> bool:
    """Close an open session and free its staff member's capacity; False if already closed."""
    with transaction.atomic():
        now = now or timezone.now()
        current = ChatSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
        if current.status != ChatSession.Status.OPEN:
            return False
        ChatSession.objects.filter(pk=current.pk).update(
            status=ChatSession.Status.CLOSED, closed_at=now
        )
        if current.assigned_staff_id is not None:
            _release(staff_id=current.assigned_staff_id)
    session.status, session.closed_at = ChatSession.Status.CLOSED, now
    return True


def _release(*, staff_id: int) -> None:
    Staff.objects.filter(pk=staff_id, open_sessions__gt=0).update(
        open_sessions=F("open_sessions") - 1
    )
