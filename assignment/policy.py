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
toggle and, in the same round trip, the working hours), read the clock, then pick the
candidate and stamp them and the session. On SQLite, transactions start with
``BEGIN IMMEDIATE`` (see settings), which serialises writers the same way.

Few round trips under the lock
------------------------------
The lock is held until commit, so every round trip after it is time no other decision can
use. On PostgreSQL the pick, the candidate count, the staff stamp and the session update are
one statement (``_PICK_AND_STAMP``): under the lock no other decision can run between its
parts, so one statement is as exact as four. Then one INSERT records the event. The working
hours come with the lock (one statement, a join): they are configuration, read at the
statement's snapshot, as they were when read just before the lock. Elsewhere (SQLite) the
same steps run as separate ORM queries. These statements are written in SQL rather than
built by the ORM (building a query here costs more than running it) and are prepared, so
PostgreSQL plans them once per connection (``_statement_cursor``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
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
        AssignmentSettings.objects.bulk_create([AssignmentSettings()], ignore_conflicts=True)
        row = locked.get(pk=AssignmentSettings.SINGLETON_ID)
    return row


@contextmanager
def _statement_cursor() -> Iterator[CursorWrapper]:
    """A cursor for the policy's own SQL; on PostgreSQL one that binds on the server.

    Server-side binding lets psycopg prepare a statement (``prepare_threshold`` in the
    database OPTIONS, see settings), so PostgreSQL plans it once per connection: planning
    the pick below costs more than running it, and the pick runs under the lock. Django's
    own cursors bind on the client and are never prepared, whatever the threshold.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What connection.cursor() does first, so that it reuses this very connection.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw, factory = connection.connection, connection.connection.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        cursor = connection.cursor()
    finally:
        raw.cursor_factory = factory
    with cursor:
        yield cursor


# The lock and the working hours in one round trip: the settings row joined to every range
# (a store has a few dozen). FOR UPDATE OF locks the settings row only.
_LOCK_AND_HOURS = f"""
    SELECT settings.auto_assign, ranges.working_time_id, working_time.timezone,
           ranges.weekday, ranges.start_minute, ranges.end_minute
    FROM {AssignmentSettings._meta.db_table} AS settings
    LEFT JOIN {WorkingRange._meta.db_table} AS ranges ON TRUE
    LEFT JOIN {WorkingTime._meta.db_table} AS working_time
        ON working_time.id = ranges.working_time_id
    WHERE settings.id = %s
"""


def _lock_and_read_hours() -> tuple[bool, list[WorkingTimeHours]]:
    """Take the assignment lock; return the toggle and every working time's hours.

    Must run inside a transaction. Creates the settings row if a flush removed it.
    """
    sql = _LOCK_AND_HOURS
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF settings"
    with _statement_cursor() as cursor:
        cursor.execute(sql, [AssignmentSettings.SINGLETON_ID])
        rows = cursor.fetchall()
        if not rows:
            lock_assignment_settings()  # creates the row, and locks it
            cursor.execute(sql, [AssignmentSettings.SINGLETON_ID])
            rows = cursor.fetchall()
    hours = _collect_hours(row[1:] for row in rows if row[1] is not None)
    return bool(rows[0][0]), hours


# --- Automatic assignment ------------------------------------------------------------------


def session_assign_on_creation(*, session: ChatSession, now: datetime | None = None) -> None:
    """Called by the post_save receiver when a session is created, in its transaction.

    Leaves the outcome on ``session.assignment_outcome`` for whoever created the session.
    A session created outside a transaction (autocommit) gets one here: the lock must be
    held until the assignment is written.
    """
    with transaction.atomic(savepoint=False):
        auto_assign, hours = _lock_and_read_hours()
        if not auto_assign:
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
    if not on_duty:
        return AssignmentOutcome("queued")
    if connection.vendor == "postgresql":
        picked = _pick_and_stamp_in_one_statement(session=session, on_duty=on_duty, now=now)
    else:
        picked = _pick_and_stamp(session=session, on_duty=on_duty, now=now)
    if picked is None:
        return AssignmentOutcome("queued")
    chosen, previous, candidates = picked
    reason = describe_reason(previous=previous, now=now)
    if kind == AssignmentEvent.Kind.QUEUE:
        reason = f"from the waiting queue; {reason}"
    event = _insert_event(
        session=session, staff=chosen, now=now, kind=kind, reason=reason, candidates=candidates
    )
    return AssignmentOutcome("assigned", chosen, event)


# One statement, under the lock: the next in line (one index probe per working time on
# duty, through the partial index staff_next_in_line), how many were candidates, the stamp
# on the staff row and the assignment of the session. The CTEs see the snapshot taken
# before the updates, so ``previous`` and the count are as they were when it was decided.
# The count is the one part that grows with the store: an index-only scan of the candidates
# in staff_next_in_line (about 0.7 ms for 5,000 staff on duty; docs/BENCHMARKS.md).
_PICK_AND_STAMP = f"""
    WITH next_in_line AS (
        SELECT first.id, first.last_assigned_at
        FROM unnest(%(on_duty)s::bigint[]) AS on_duty (working_time_id)
        CROSS JOIN LATERAL (
            SELECT id, last_assigned_at FROM {Staff._meta.db_table}
            WHERE working_time_id = on_duty.working_time_id AND active
              AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions)
            ORDER BY last_assigned_at ASC NULLS FIRST, id
            LIMIT 1
        ) AS first
        ORDER BY first.last_assigned_at ASC NULLS FIRST, first.id
        LIMIT 1
    ), stamped AS (
        UPDATE {Staff._meta.db_table} AS staff
        SET last_assigned_at = %(now)s, open_sessions = staff.open_sessions + 1
        FROM next_in_line
        WHERE staff.id = next_in_line.id
        RETURNING staff.id, staff.name, staff.email, next_in_line.last_assigned_at AS previous
    ), assigned AS (
        UPDATE {ChatSession._meta.db_table} AS session
        SET assigned_staff_id = stamped.id, assigned_at = %(now)s
        FROM stamped
        WHERE session.id = %(session)s
    )
    SELECT stamped.id, stamped.name, stamped.email, stamped.previous, (
        SELECT count(*) FROM {Staff._meta.db_table}
        WHERE working_time_id = ANY(%(on_duty)s::bigint[]) AND active
          AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions)
    )
    FROM stamped
"""


def _pick_and_stamp_in_one_statement(
    *, session: ChatSession, on_duty: list[int], now: datetime
) -> tuple[Staff, datetime | None, int] | None:
    with _statement_cursor() as cursor:
        cursor.execute(_PICK_AND_STAMP, {"on_duty": on_duty, "now": now, "session": session.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    staff_id, name, email, previous, candidates = row
    chosen = Staff.from_db(
        connection.alias,
        ["id", "name", "email", "last_assigned_at"],
        [staff_id, name, email, now],
    )
    session.assigned_staff, session.assigned_at = chosen, now
    return chosen, previous, candidates


def _pick_and_stamp(
    *, session: ChatSession, on_duty: list[int], now: datetime
) -> tuple[Staff, datetime | None, int] | None:
    """The same as ``_PICK_AND_STAMP``, step by step, for databases without it."""
    chosen = (
        staff_candidates(on_duty_working_time_ids=on_duty)
        .annotate(candidate_count=Window(Count("id")))
        .only("id", "name", "email", "last_assigned_at")
        .first()
    )
    if chosen is None:
        return None
    previous = chosen.last_assigned_at
    _stamp(session=session, staff=chosen, now=now)
    return chosen, previous, chosen.candidate_count


def _stamp(*, session: ChatSession, staff: Staff, now: datetime) -> None:
    """Make ``staff``'s last assignment now, count the open session, assign ``session``."""
    Staff.objects.filter(pk=staff.pk).update(
        last_assigned_at=now, open_sessions=F("open_sessions") + 1
    )
    ChatSession.objects.filter(pk=session.pk).update(assigned_staff=staff, assigned_at=now)
    staff.last_assigned_at = now
    session.assigned_staff, session.assigned_at = staff, now


_INSERT_EVENT = f"""
    INSERT INTO {AssignmentEvent._meta.db_table}
        (session_id, staff_id, kind, reason, candidates, assigned_by_id, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    RETURNING id
"""


def _insert_event(
    *,
    session: ChatSession,
    staff: Staff,
    now: datetime,
    kind: AssignmentEvent.Kind,
    reason: str,
    candidates: int | None,
    assigned_by=None,
) -> AssignmentEvent:
    """Record the assignment: one INSERT, announced by the signals ``Model.save()`` sends.

    This runs under the lock, where ``save()`` took nearly twice as long as the INSERT
    (docs/BENCHMARKS.md); ``pre_save`` and ``post_save`` (created) still tell every listener
    about every assignment. A new column without a database default fails here at once.
    """
    event = AssignmentEvent(
        session=session,
        staff=staff,
        kind=kind,
        reason=reason[:255],
        candidates=candidates,
        assigned_by=assigned_by,
        created_at=now,
    )
    using = connection.alias
    pre_save.send(
        sender=AssignmentEvent, instance=event, raw=False, using=using, update_fields=None
    )
    params = [
        session.pk,
        staff.pk,
        str(kind),
        event.reason,
        candidates,
        assigned_by.pk if assigned_by is not None else None,
        connection.ops.adapt_datetimefield_value(now),
    ]
    with _statement_cursor() as cursor:
        cursor.execute(_INSERT_EVENT, params)
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, using
    post_save.send(
        sender=AssignmentEvent,
        instance=event,
        created=True,
        update_fields=None,
        raw=False,
        using=using,
    )
    return event


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
        auto_assign, hours = _lock_and_read_hours()
        if not auto_assign:
            return None
        session = _lock_oldest_waiting()
        if session is None:
            return None
        outcome = _assign_next_in_line(
            session=session, hours=hours, now=now, kind=AssignmentEvent.Kind.QUEUE
        )
        return outcome if outcome.status == "assigned" else None


# waiting_sessions(), first, locked: a session closed or assigned meanwhile waits for us.
# The status is written out, not a parameter, so that even a generic plan of the prepared
# statement can use the partial index session_waiting_queue.
_OLDEST_WAITING = f"""
    SELECT id FROM {ChatSession._meta.db_table}
    WHERE status = '{ChatSession.Status.OPEN.value}' AND assigned_staff_id IS NULL
    ORDER BY created_at, id
    LIMIT 1
"""


def _lock_oldest_waiting() -> ChatSession | None:
    sql = _OLDEST_WAITING
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with _statement_cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return ChatSession.from_db(connection.alias, ["id"], row) if row else None


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
        _stamp(session=current, staff=target, now=now)
        event = _insert_event(
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
