"""The assignment policy: who gets a session, and the bookkeeping that keeps it fair.

The rule, in one place (this module):

* **Eligible**: active, of a working time that is on duty at the decision's instant (judged
  in the working time's own zone by ``staff.schedule``: its weekly hours, except on a date
  with an exception, whose ranges replace that weekday's, none meaning closed), and under
  their capacity (``staff_in_line``).
* **Order**: never assigned first, then the oldest last assignment; ties go to the staff
  member added first, the lowest id, whatever their working time (``staff_in_line``).
* **The instant**: a new session is decided at its creation instant (``created_at``), a
  waiting one at the caller's ``now``. Working hours are judged at that instant.
* **The stamp**: the staff member's last assignment becomes the decision's instant, or the
  previous decision's stamp plus a microsecond when that is later (``decision_stamp``), so
  stamps never go backwards in the order decisions take the lock (see below).
* **The candidates**: how many staff were eligible, recorded on the event with the reason
  (``describe_reason``).
* **First come, first served**: while older sessions wait, the decision a new session
  triggers goes to the oldest of them (kind "queue"); the new session waits behind it
  (``session_assign_on_creation`` reports both). Still one decision per new session.

Every face uses these: the webhook (through the ``post_save`` signal of a new session), the
waiting queue, manual assignment's bookkeeping, ``on_duty`` and the Next in line page
(``staff_in_line`` is the preview: the same query the decision takes its first row from).

How it stays exact under concurrency
------------------------------------
Every decision that reads or changes "who is next" (automatic, from the queue, manual)
first locks the store's single ``AssignmentSettings`` row (``SELECT ... FOR UPDATE``) and
holds it until its transaction commits. Deciding who is next is sequential by nature: each
assignment changes the answer for the next one, so one lock loses no parallelism and makes
every decision see all earlier ones. The alternatives fail in known ways:

* ``ORDER BY last_assigned_at LIMIT 1 FOR UPDATE`` on staff rows: after waiting for the
  lock, PostgreSQL re-checks the row but does not re-sort, so the staff member just
  assigned is returned again.
* ``SKIP LOCKED`` on staff rows: a session is queued while staff are free but locked.
* reading capacity or the previous stamps before the lock is granted: a staff member can be
  given more than their capacity, or the same turn twice.

Two implementations of one decision
-----------------------------------
``_decide_step_by_step`` runs the rule as ORM queries under the lock: on SQLite (writers
serialised by ``BEGIN IMMEDIATE``, see settings) it is the decision. On PostgreSQL the lock
is a row lock held until COMMIT, so every round trip under it is time no other decision can
use: there the locked part of a decision is one call of the database function
``chatassist_assign_next`` (``assignment/sql/assign_next.sql``), which runs the same rule
with the index ``staff_next_in_line`` and the kept count ``staff_with_room_count``. That is
the one second form speed forces; ``tests/assignment/test_rule_agrees.py`` generates stores
and instants and fails when the two (or the preview) disagree on who, the count or the
reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Subquery, Window
from django.utils import timezone

if TYPE_CHECKING:
    # AssignmentEvent.assigned_by points at AUTH_USER_MODEL, left at Django's User.
    from django.contrib.auth.models import User

from assignment import decisions
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from events import outbox
from staff import schedule
from staff.models import ExceptionRange, Staff, WorkingRange, WorkingTime, WorkingTimeException

QUEUE_REASON_PREFIX = "from the waiting queue; "


class Outcome(StrEnum):
    """What one automatic decision did."""

    ASSIGNED = "assigned"
    QUEUED = "queued"  # automatic assignment is on, but nobody on duty has room
    AUTO_ASSIGN_OFF = "auto_assign_off"  # it waits for a manager (the webhook says "manual")
    NOTHING_WAITING = "nothing_waiting"  # a queue decision found no waiting session


class AssignmentError(Exception):
    """A manual assignment or close that cannot be done; the message says why."""


@dataclass(frozen=True)
class AssignedStaff:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Decision:
    """One automatic decision: the session it was about and, if assigned, to whom and why."""

    outcome: Outcome
    session_id: int | None
    assigned_to: AssignedStaff | None = None
    assigned_at: datetime | None = None
    reason: str | None = None
    candidates: int | None = None
    event_id: int | None = None
    # First come, first served: a new session that waits because its decision went to the
    # oldest waiting session carries that decision here.
    oldest_served: Decision | None = None

    @property
    def assigned(self) -> bool:
        return self.outcome is Outcome.ASSIGNED


@dataclass(frozen=True)
class WorkingTimeHours:
    """A working time as the rule judges it: its zone, weekly ranges and dated exceptions."""

    id: int
    zone_name: str
    ranges: tuple[schedule.WeeklyRange, ...]
    exceptions: schedule.Exceptions = field(default_factory=dict)

    def on_duty(self, at: datetime) -> bool:
        return schedule.is_on_duty(
            self.ranges, schedule.zone_for(self.zone_name), at, self.exceptions
        )


# --- The rule ------------------------------------------------------------------------------


def staff_in_line(*, on_duty_working_time_ids: Iterable[int]) -> QuerySet[Staff]:
    """The eligible staff, next in line first: the rule's eligibility, order and tie-break.

    Eligible: active, of one of the given working times (those on duty at the decision's
    instant), under their capacity. Order: never assigned first, then the oldest last
    assignment, then the staff member added first (lowest id), across working times.
    """
    return (
        Staff.objects.filter(active=True, working_time_id__in=list(on_duty_working_time_ids))
        .filter(Q(max_open_sessions__isnull=True) | Q(open_sessions__lt=F("max_open_sessions")))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )


def working_times_on_duty(hours: Iterable[WorkingTimeHours], at: datetime) -> list[int]:
    """The ids of the working times whose hours cover the instant ``at``, sorted."""
    return sorted(working_time.id for working_time in hours if working_time.on_duty(at))


def decision_stamp(*, previous_stamp: datetime | None, at: datetime) -> datetime:
    """The stamp of a decision made at ``at``: never earlier than the previous one's + 1 µs.

    Two requests can reach the lock in the other order than their clocks, and several
    hosts' clocks differ a little; neither may reorder the rotation.
    """
    if previous_stamp is None or at > previous_stamp:
        return at
    return previous_stamp + timedelta(microseconds=1)


def describe_reason(
    *, previous: datetime | None, now: datetime, kind: str = AssignmentEvent.Kind.AUTOMATIC
) -> str:
    """Why a staff member is (or was) at the front of the line, as the event records it."""
    if previous is None:
        reason = "never assigned"
    else:
        reason = f"last assigned {describe_duration(now - previous)} ago"
    if kind == AssignmentEvent.Kind.QUEUE:
        reason = QUEUE_REASON_PREFIX + reason
    return reason[: AssignmentEvent._meta.get_field("reason").max_length]


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


# --- Selectors -------------------------------------------------------------------------------


# Every working time's weekly ranges and dated exceptions as rows of one shape, for one
# statement on every database: (working time, zone, weekday, NULL, start, end, NULL) for a
# weekly range; (working time, zone, NULL, date, start, end, name) for an exception's range,
# start and end NULL for a closed day.
_HOURS_ROWS = f"""
    SELECT ranges.working_time_id, working_time.timezone, ranges.weekday,
           CAST(NULL AS date) AS on_date, ranges.start_minute, ranges.end_minute,
           CAST(NULL AS varchar(200)) AS name
    FROM {WorkingRange._meta.db_table} AS ranges
    JOIN {WorkingTime._meta.db_table} AS working_time ON working_time.id = ranges.working_time_id
    UNION ALL
    SELECT exception.working_time_id, working_time.timezone, NULL, exception.date,
           exception_range.start_minute, exception_range.end_minute, exception.name
    FROM {WorkingTimeException._meta.db_table} AS exception
    JOIN {WorkingTime._meta.db_table} AS working_time ON working_time.id = exception.working_time_id
    LEFT JOIN {ExceptionRange._meta.db_table} AS exception_range
        ON exception_range.exception_id = exception.id
"""
HoursRow = tuple[int, str, int | None, date | str | None, int | None, int | None, str | None]


def working_time_hours() -> list[WorkingTimeHours]:
    """Every working time's zone, weekly ranges and dated exceptions, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_HOURS_ROWS)
        return collect_hours(cursor.fetchall())


def collect_hours(rows: Iterable[HoursRow]) -> list[WorkingTimeHours]:
    """Rows of ``_HOURS_ROWS`` gathered per working time."""
    zones: dict[int, str] = {}
    weekly: dict[int, list[schedule.WeeklyRange]] = {}
    dated: dict[int, dict[date, tuple[list[tuple[int, int]], str]]] = {}
    for working_time_id, zone_name, weekday, on_date, start, end, name in rows:
        zones[working_time_id] = zone_name
        if on_date is None:
            assert weekday is not None and start is not None and end is not None
            weekly.setdefault(working_time_id, []).append(schedule.WeeklyRange(weekday, start, end))
            continue
        day = date.fromisoformat(on_date) if isinstance(on_date, str) else on_date  # SQLite
        day_ranges, _ = dated.setdefault(working_time_id, {}).setdefault(day, ([], name or ""))
        if start is not None and end is not None:
            day_ranges.append((start, end))
    return [
        WorkingTimeHours(
            working_time_id,
            zone_name,
            tuple(sorted(weekly.get(working_time_id, ()))),
            {
                day: schedule.DateException(day, tuple(sorted(day_ranges)), name)
                for day, (day_ranges, name) in sorted(dated.get(working_time_id, {}).items())
            },
        )
        for working_time_id, zone_name in zones.items()
    ]


def staff_on_duty(*, at: datetime) -> list[Staff]:
    """The preview: staff who would be considered for a session created at ``at``, in
    assignment order, next in line first.

    Working hours are judged at ``at``; order and capacity come from the current data.
    """
    on_duty = working_times_on_duty(working_time_hours(), at)
    return list(staff_in_line(on_duty_working_time_ids=on_duty).select_related("working_time"))


def auto_assign_enabled() -> bool:
    return AssignmentSettings.objects.filter(
        pk=AssignmentSettings.SINGLETON_ID, auto_assign=True
    ).exists()


def waiting_sessions() -> QuerySet[ChatSession]:
    """Open sessions nobody has, oldest first: the waiting queue."""
    return ChatSession.objects.filter(
        status=ChatSession.Status.OPEN, assigned_staff__isnull=True
    ).order_by("created_at", "id")


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


def _record_decision_stamp(stamp: datetime) -> None:
    AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID).update(
        last_decision_at=stamp
    )


# --- Automatic decisions ---------------------------------------------------------------------


def session_assign_on_creation(*, session: ChatSession) -> Decision:
    """Decide a session just created; called by its ``post_save`` receiver, in its
    transaction. Decided at the session's creation instant.

    The decision is returned, and also handed to the ``decisions.collect()`` block open
    around the save, if any: that is how the code that saved the session (ingestion)
    learns it through a signal. A session saved outside a transaction (autocommit) gets
    one here: the lock must be held until the assignment is written.
    """
    with transaction.atomic(savepoint=False):
        decision = _decide(session_id=session.pk, at=session.created_at, kind="automatic")
    if decision.session_id != session.pk:
        # First come, first served: the turn went to the oldest waiting session.
        decisions.report(decision)
        decision = Decision(Outcome.QUEUED, session.pk, oldest_served=decision)
    decisions.report(decision)
    return decision


def assign_oldest_waiting(*, now: datetime | None = None) -> Decision:
    """Assign the oldest waiting session to the staff member next in line at ``now``.

    Outcome NOTHING_WAITING, QUEUED (nobody on duty has room) or AUTO_ASSIGN_OFF means
    there is nothing to do now. One transaction: safe to run from several processes at
    once, since the session row is chosen under the assignment lock.
    """
    at = now or timezone.now()
    if connection.vendor == "postgresql":
        # One call is one statement, atomic by itself: no BEGIN and COMMIT round trips.
        return _decide_in_database(session_id=None, at=at, kind="queue")
    with transaction.atomic():
        return _decide_step_by_step(session_id=None, at=at, kind="queue")


def _decide(*, session_id: int | None, at: datetime, kind: str) -> Decision:
    if connection.vendor == "postgresql":
        return _decide_in_database(session_id=session_id, at=at, kind=kind)
    return _decide_step_by_step(session_id=session_id, at=at, kind=kind)


def _decide_step_by_step(*, session_id: int | None, at: datetime, kind: str) -> Decision:
    """The decision as ORM queries, the caller's transaction holding the lock until commit.

    For a new session (``session_id`` given) an older waiting session takes the turn
    (first come, first served): the decision is then about it, of kind "queue".
    """
    new_session_id = session_id
    if session_id is None:
        settings_row = lock_assignment_settings()
    else:
        settings_row, older_id = _lock_with_oldest_waiting_before(session_id)
        if older_id is not None and settings_row.auto_assign:
            session_id, kind = older_id, AssignmentEvent.Kind.QUEUE
    if not settings_row.auto_assign:
        return Decision(Outcome.AUTO_ASSIGN_OFF, session_id)
    if session_id is None:
        session_id = waiting_sessions().values_list("id", flat=True).first()
        if session_id is None:
            return Decision(Outcome.NOTHING_WAITING, None)
    on_duty = working_times_on_duty(working_time_hours(), at)
    chosen = (
        staff_in_line(on_duty_working_time_ids=on_duty)
        .annotate(candidate_count=Window(Count("id")))
        .values_list("id", "name", "email", "last_assigned_at", "candidate_count")
        .first()
    )
    if chosen is None:
        if new_session_id is not None:  # a new session waits
            outbox.session_queued(session_id=new_session_id, at=at)
        return Decision(Outcome.QUEUED, new_session_id or session_id)
    staff_id, name, email, previous, candidates = chosen
    stamp = decision_stamp(previous_stamp=settings_row.last_decision_at, at=at)
    reason = describe_reason(previous=previous, now=stamp, kind=kind)
    _stamp(session_id=session_id, staff_id=staff_id, stamp=stamp)
    event = AssignmentEvent.objects.create(
        session_id=session_id,
        staff_id=staff_id,
        kind=kind,
        reason=reason,
        candidates=candidates,
        created_at=stamp,
    )
    assigned_to = AssignedStaff(staff_id, name, email)
    outbox.session_assigned(
        session_id=session_id,
        staff=assigned_to,
        kind=kind,
        reason=reason,
        candidates=candidates,
        by=None,
        at=stamp,
    )
    if new_session_id is not None and new_session_id != session_id:
        # First come, first served: the new session waits behind the one just served.
        outbox.session_queued(session_id=new_session_id, at=at)
    return Decision(
        Outcome.ASSIGNED,
        session_id,
        assigned_to,
        stamp,
        reason,
        candidates,
        event.pk,
    )


def _lock_with_oldest_waiting_before(session_id: int) -> tuple[AssignmentSettings, int | None]:
    """The lock, and the oldest session waiting since before ``session_id`` was created.

    One query on SQLite, where writers are serialised and the lock query can carry the
    look-up. On PostgreSQL the waiting session is also locked, skipping one that a
    customer's message or a close holds right now (as ``chatassist_assign_next`` does).
    """
    new = ChatSession.objects.filter(pk=session_id)
    older = (
        waiting_sessions()
        .exclude(pk=session_id)
        .filter(
            Q(created_at__lt=Subquery(new.values("created_at")))
            | Q(created_at=Subquery(new.values("created_at")), id__lt=session_id)
        )
        .values("id")
    )
    if connection.vendor == "postgresql":
        settings_row = lock_assignment_settings()
        locked = older.select_for_update(skip_locked=True).values_list("id", flat=True)
        return settings_row, locked.first()
    row = (
        AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID)
        .annotate(oldest_waiting_id=Subquery(older[:1]))
        .values_list("auto_assign", "last_decision_at", "oldest_waiting_id")
        .first()
    )
    if row is None:
        return lock_assignment_settings(), None
    auto_assign, last_decision_at, older_id = row
    return AssignmentSettings(auto_assign=auto_assign, last_decision_at=last_decision_at), older_id


def _stamp(*, session_id: int, staff_id: int, stamp: datetime) -> None:
    """Make ``staff_id``'s last assignment ``stamp``, count the open session, assign it."""
    Staff.objects.filter(pk=staff_id).update(
        last_assigned_at=stamp, open_sessions=F("open_sessions") + 1
    )
    ChatSession.objects.filter(pk=session_id).update(assigned_staff_id=staff_id, assigned_at=stamp)
    _record_decision_stamp(stamp)


# --- The decision in one call (PostgreSQL) ---------------------------------------------------
#
# ``chatassist_assign_next`` (assignment/sql/assign_next.sql) takes the lock and runs the
# rule inside the server. Who is on duty is judged here, by ``staff.schedule``, from this
# process's copy of the working hours (weekly ranges and dated exceptions): they change a
# few times a year and are needed by every decision, so each call carries the digest of the
# copy it judged from, and the database, under the lock, refuses a stale one ("stale"): the
# copy is then read again. (An exception's name is a label: not in the digest.)

_ASSIGN_NEXT = "SELECT * FROM chatassist_assign_next(%s, %s::bigint[], %s, %s, %s)"
_HOURS_WITH_DIGEST = f"""
    SELECT digest.value, hours.*
    FROM (SELECT chatassist_hours_digest() AS value) AS digest
    LEFT JOIN ({_HOURS_ROWS}) AS hours ON TRUE
"""
_DATABASE_OUTCOMES = {
    "assigned": Outcome.ASSIGNED,
    "queued": Outcome.QUEUED,
    "off": Outcome.AUTO_ASSIGN_OFF,
    "empty": Outcome.NOTHING_WAITING,
}


@dataclass(frozen=True)
class _HoursCopy:
    digest: str
    hours: list[WorkingTimeHours]


_hours_copy: _HoursCopy | None = None


def _read_hours_with_digest() -> _HoursCopy:
    global _hours_copy
    with connection.cursor() as cursor:
        cursor.execute(_HOURS_WITH_DIGEST)
        rows = cursor.fetchall()
    _hours_copy = _HoursCopy(
        rows[0][0], collect_hours(row[1:] for row in rows if row[1] is not None)
    )
    return _hours_copy


def _decide_in_database(*, session_id: int | None, at: datetime, kind: str) -> Decision:
    copy = _hours_copy or _read_hours_with_digest()
    for _attempt in range(3):
        params = [session_id, working_times_on_duty(copy.hours, at), copy.digest, at, kind]
        with connection.cursor() as cursor:
            cursor.execute(_ASSIGN_NEXT, params)
            row = cursor.fetchone()
        outcome, session_id_, staff_id, name, email, stamp, candidates, event_id, reason = row
        if outcome == "stale":
            copy = _read_hours_with_digest()
        elif outcome == "missing":  # a flush removed the settings row
            _create_settings_row()
        elif outcome == "assigned":
            return Decision(
                Outcome.ASSIGNED,
                session_id_,
                AssignedStaff(staff_id, name, email),
                stamp,
                reason,
                candidates,
                event_id,
            )
        else:
            return Decision(_DATABASE_OUTCOMES[outcome], session_id_)
    raise RuntimeError("The working hours or settings kept changing during one decision.")


# --- Manual assignment and closing -------------------------------------------------------------


def session_assign_manually(
    *,
    session: ChatSession,
    staff: Staff,
    assigned_by: User | None,
    now: datetime | None = None,
) -> AssignmentEvent:
    """A manager gives ``session`` to ``staff``; it counts as their last assignment."""
    with transaction.atomic():
        settings_row = lock_assignment_settings()
        stamp = decision_stamp(
            previous_stamp=settings_row.last_decision_at, at=now or timezone.now()
        )
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
        _stamp(session_id=current.pk, staff_id=target.pk, stamp=stamp)
        outbox.session_assigned(
            session_id=current.pk,
            staff=target,
            kind=AssignmentEvent.Kind.MANUAL,
            reason=f"manual by {who}"[:255],
            candidates=None,
            by=assigned_by.get_username() if assigned_by is not None else None,
            at=stamp,
        )
        return AssignmentEvent.objects.create(
            session=current,
            staff=target,
            kind=AssignmentEvent.Kind.MANUAL,
            reason=f"manual by {who}"[:255],
            assigned_by=assigned_by,
            created_at=stamp,
        )


def session_close(*, session: ChatSession, now: datetime | None = None) -> bool:
    """Close an open session and free its staff member's capacity; False if already closed."""
    with transaction.atomic():
        now = now or timezone.now()
        current = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_staff")
            .get(pk=session.pk)
        )
        if current.status != ChatSession.Status.OPEN:
            return False
        ChatSession.objects.filter(pk=current.pk).update(
            status=ChatSession.Status.CLOSED, closed_at=now
        )
        outbox.session_closed(session_id=current.pk, assigned_to=current.assigned_staff, at=now)
        if current.assigned_staff_id is not None:
            _release(staff_id=current.assigned_staff_id)
    return True


def _release(*, staff_id: int) -> None:
    Staff.objects.filter(pk=staff_id, open_sessions__gt=0).update(
        open_sessions=F("open_sessions") - 1
    )


# --- Bookkeeping shared with the hand-overs (assignment.handover) ----------------------------


def record_assignment(*, session_id: int, staff_id: int, stamp: datetime) -> None:
    """An assignment's bookkeeping, under the lock: the stamp, the open count, the session."""
    _stamp(session_id=session_id, staff_id=staff_id, stamp=stamp)


def release_open_session(*, staff_id: int) -> None:
    """One open session fewer for ``staff_id`` (their capacity), never below zero."""
    _release(staff_id=staff_id)
