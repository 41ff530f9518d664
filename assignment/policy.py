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
* reading capacity or the previous stamps before the lock is granted: a staff member can be
  given more than their capacity, or the same turn twice.

Stamps never go backwards in lock order: a decision is stamped with its clock, or with the
previous decision's stamp plus a microsecond when that is later (``last_decision_at`` on
the locked row). Two requests can reach the lock in the other order than their clocks, and
several hosts' clocks differ a little; neither can reorder the rotation.

Few round trips under the lock
------------------------------
The lock is held until commit, so every round trip after it is time no other decision can
use. On PostgreSQL the whole locked part of a decision is one call of the database function
``chatassist_assign_next`` (migration assignment 0005): lock, toggle, the session (given, or
the oldest waiting), the pick through the partial index ``staff_next_in_line``, the stamps,
the event. Who is on duty is still judged here, in Python (``staff.schedule``), from a copy
of the working hours kept by this process; the call carries the copy's digest and the
database, under the lock, refuses a stale one, so no decision uses outdated hours. On SQLite
(a single-process, zero-setup database) the same steps run as ORM queries inside
``BEGIN IMMEDIATE`` transactions (see settings), which serialise writers the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.signals import post_save
from django.utils import timezone

from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from assignment.statements import statement_cursor
from staff import schedule
from staff.models import Staff, WorkingRange, WorkingTime

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
    return _collect_hours(rows)


def _collect_hours(rows: Iterable[tuple[int, str, int, int, int]]) -> list[WorkingTimeHours]:
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
        _create_settings_row()
        row = locked.get(pk=AssignmentSettings.SINGLETON_ID)
    return row


def _create_settings_row() -> None:
    """The row with its defaults, unless another transaction just created it."""
    AssignmentSettings.objects.bulk_create([AssignmentSettings()], ignore_conflicts=True)


# --- Automatic assignment ------------------------------------------------------------------


def session_assign_on_creation(*, session: ChatSession, now: datetime | None = None) -> None:
    """Called by the post_save receiver when a session is created, in its transaction.

    Leaves the outcome on ``session.assignment_outcome`` for whoever created the session.
    A session created outside a transaction (autocommit) gets one here: the lock must be
    held until the assignment is written.
    """
    with transaction.atomic(savepoint=False):
        kind = AssignmentEvent.Kind.AUTOMATIC
        if connection.vendor == "postgresql":
            decision = _decide_in_database(session_id=session.pk, now=now, kind=kind)
            session.assignment_outcome = _outcome_of(decision, session=session)
            return
        settings_row = lock_assignment_settings()
        if not settings_row.auto_assign:
            session.assignment_outcome = AssignmentOutcome("manual")
            return
        session.assignment_outcome = _assign_next_in_line(
            session=session, previous_stamp=settings_row.last_decision_at, now=now, kind=kind
        )


def _stamp_after(previous_stamp: datetime | None, now: datetime) -> datetime:
    """This decision's stamp: ``now``, unless the previous decision was stamped as late."""
    if previous_stamp is None or now > previous_stamp:
        return now
    return previous_stamp + timedelta(microseconds=1)


def _record_decision_stamp(stamp: datetime) -> None:
    AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID).update(
        last_decision_at=stamp
    )


# --- One decision in one call (PostgreSQL) -------------------------------------------------
#
# ``chatassist_assign_next`` (migration assignment 0005) runs the whole locked part of a
# decision inside the server: lock, toggle, the check that the caller's working hours are
# current, the session (given, or the oldest waiting), the pick, the stamps, the event. The
# lock is then held for one call and the COMMIT, not for a round trip per step.

_ASSIGN_NEXT = "SELECT * FROM chatassist_assign_next(%s, %s::bigint[], %s, %s, %s)"
_HOURS_WITH_DIGEST = f"""
    SELECT digest.value, ranges.working_time_id, working_time.timezone,
           ranges.weekday, ranges.start_minute, ranges.end_minute
    FROM (SELECT chatassist_hours_digest() AS value) AS digest
    LEFT JOIN {WorkingRange._meta.db_table} AS ranges ON TRUE
    LEFT JOIN {WorkingTime._meta.db_table} AS working_time
        ON working_time.id = ranges.working_time_id
"""

# This process's copy of the working hours and their digest. Working hours change a few times
# a year and are read on every decision, so each decision sends the digest of the copy it
# judged from, and the database, under the lock, refuses a stale one ("stale"): the copy is
# then read again. One read and one digest, one consistent snapshot.
_hours_copy: tuple[str, list[WorkingTimeHours]] | None = None


def _read_hours_with_digest() -> tuple[str, list[WorkingTimeHours]]:
    global _hours_copy
    with statement_cursor() as cursor:
        cursor.execute(_HOURS_WITH_DIGEST)
        rows = cursor.fetchall()
    _hours_copy = (rows[0][0], _collect_hours(row[1:] for row in rows if row[1] is not None))
    return _hours_copy


@dataclass(frozen=True)
class _Decision:
    outcome: str  # assigned, queued, off, stale, missing, empty
    session_id: int | None
    staff_id: int | None
    staff_name: str | None
    staff_email: str | None
    assigned_at: datetime | None
    candidates: int | None
    event_id: int | None
    reason: str | None
    kind: str


def _decide_in_database(
    *, session_id: int | None, now: datetime | None, kind: AssignmentEvent.Kind
) -> _Decision:
    """One decision through ``chatassist_assign_next``; who is on duty is judged here.

    Duty is judged at ``now`` (default: the clock as the call starts); the stamps follow
    the rule in the module docstring.
    """
    digest, hours = _hours_copy or _read_hours_with_digest()
    now = now or timezone.now()
    for _attempt in range(3):
        params = [session_id, working_times_on_duty(hours, now), digest, now, str(kind)]
        with statement_cursor() as cursor:
            cursor.execute(_ASSIGN_NEXT, params)
            decision = _Decision(*cursor.fetchone(), kind=str(kind))
        if decision.outcome == "stale":
            digest, hours = _read_hours_with_digest()
        elif decision.outcome == "missing":  # a flush removed it
            _create_settings_row()
        else:
            return decision
    raise RuntimeError("The working hours or settings kept changing during one decision.")


def _outcome_of(decision: _Decision, *, session: ChatSession) -> AssignmentOutcome:
    """The decision as the ORM objects the rest of the code expects."""
    if decision.outcome == "off":
        return AssignmentOutcome("manual")
    if decision.outcome != "assigned":
        return AssignmentOutcome("queued")
    staff = Staff.from_db(
        connection.alias,
        ["id", "name", "email", "last_assigned_at"],
        [decision.staff_id, decision.staff_name, decision.staff_email, decision.assigned_at],
    )
    session.assigned_staff, session.assigned_at = staff, decision.assigned_at
    event = AssignmentEvent.from_db(
        connection.alias,
        [
            "id",
            "session_id",
            "staff_id",
            "kind",
            "reason",
            "candidates",
            "assigned_by_id",
            "created_at",
        ],
        [
            decision.event_id,
            session.pk,
            staff.pk,
            decision.kind,
            decision.reason,
            decision.candidates,
            None,
            decision.assigned_at,
        ],
    )
    event.session, event.staff = session, staff
    # The event was written by the database; listeners are told as save() would tell them.
    post_save.send(
        sender=AssignmentEvent,
        instance=event,
        created=True,
        update_fields=None,
        raw=False,
        using=connection.alias,
    )
    return AssignmentOutcome("assigned", staff, event)


# --- One decision step by step (SQLite) --------------------------------------------------


def _assign_next_in_line(
    *,
    session: ChatSession,
    previous_stamp: datetime | None,
    now: datetime | None,
    kind: AssignmentEvent.Kind,
) -> AssignmentOutcome:
    """Give ``session`` to the staff member next in line. Caller holds the lock."""
    now = _stamp_after(previous_stamp, now or timezone.now())
    on_duty = working_times_on_duty(working_time_hours(), now)
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
    _stamp(session=session, staff=chosen, now=now)
    event = AssignmentEvent.objects.create(
        session=session,
        staff=chosen,
        kind=kind,
        reason=reason[:255],
        candidates=chosen.candidate_count,
        created_at=now,
    )
    return AssignmentOutcome("assigned", chosen, event)


def _stamp(*, session: ChatSession, staff: Staff, now: datetime) -> None:
    """Make ``staff``'s last assignment now, count the open session, assign ``session``."""
    Staff.objects.filter(pk=staff.pk).update(
        last_assigned_at=now, open_sessions=F("open_sessions") + 1
    )
    ChatSession.objects.filter(pk=session.pk).update(assigned_staff=staff, assigned_at=now)
    _record_decision_stamp(now)
    staff.last_assigned_at = now
    session.assigned_staff, session.assigned_at = staff, now


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
    kind = AssignmentEvent.Kind.QUEUE
    if connection.vendor == "postgresql":
        # Outside a transaction the call is one: the lock is released as it returns.
        decision = _decide_in_database(session_id=None, now=now, kind=kind)
        if decision.outcome != "assigned":
            return None
        session = ChatSession.from_db(connection.alias, ["id"], [decision.session_id])
        return _outcome_of(decision, session=session)
    with transaction.atomic():
        settings_row = lock_assignment_settings()
        session = waiting_sessions().only("id").first() if settings_row.auto_assign else None
        if session is None:
            return None
        outcome = _assign_next_in_line(
            session=session, previous_stamp=settings_row.last_decision_at, now=now, kind=kind
        )
        return outcome if outcome.status == "assigned" else None


# --- Manual assignment and closing -------------------------------------------------------------


def session_assign_manually(
    *, session: ChatSession, staff: Staff, assigned_by, now: datetime | None = None
) -> AssignmentEvent:
    """A manager gives ``session`` to ``staff``; it counts as their last assignment."""
    with transaction.atomic():
        now = _stamp_after(lock_assignment_settings().last_decision_at, now or timezone.now())
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
        _stamp(session=current, staff=target, now=now)
        event = AssignmentEvent.objects.create(
            session=current,
            staff=target,
            kind=AssignmentEvent.Kind.MANUAL,
            reason=f"manual by {who}"[:255],
            assigned_by=assigned_by,
            created_at=now,
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
