"""Operating the store: the waiting-queue worker, closing idle sessions, and returning an
away staff member's sessions to the queue.

The commands (``assign_waiting``, ``close_idle_sessions``, ``return_to_queue``) are thin
faces over these functions. Every decision about who is next still goes through
``assignment.policy``; what is here decides *which* sessions to hand to it, and when.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from django.core.management.base import OutputWrapper
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from assignment import policy
from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff

logger = logging.getLogger("chatassist.worker")

# Errors that mean "the database went away or is busy", worth waiting for and retrying.
# Anything else (a bug, a broken constraint) stops the worker: a supervisor restarts it
# and the traceback is in the log.
RECOVERABLE_DATABASE_ERRORS = (OperationalError, InterfaceError)


class MaintenanceError(Exception):
    """An operation refused before changing anything; the message says why."""


# --- Durations ---------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"2d"``, ``"1d12h"`` as a timedelta; ValueError says why not."""
    cleaned = text.strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(f"{number}{unit}" for number, unit in parts) != cleaned:
        raise ValueError(
            f"{text!r} is not a duration: use a whole number and a unit, s, m, h or d "
            "(e.g. 30m, 24h, 2d, 1d12h)."
        )
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not longer than zero.")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than {MAX_DURATION.days} days.")
    return timedelta(seconds=seconds)


# --- The waiting queue -------------------------------------------------------------------


def assign_next_waiting() -> bool:
    """Assign the oldest waiting session to the staff member next in line, now.

    False when there is nothing to do: the queue is empty, nobody on duty has room, or
    automatic assignment is off. One transaction, so a stop between two calls never leaves
    half an assignment.
    """
    return policy.assign_one_waiting() is not None


def drain_waiting(
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Assign waiting sessions until none can be; returns how many were assigned."""
    assigned = 0
    while not should_stop() and assign_next_waiting():
        assigned += 1
        if on_progress is not None:
            on_progress(assigned)
    return assigned


@dataclass
class QueueWorker:
    """``assign_waiting --loop``: assign waiting sessions as long as the process runs.

    A loop of ``handle_one()`` calls, each one session in one transaction. When there is
    nothing to do it sleeps ``idle_interval`` seconds. ``stop()``, or a signal handler
    setting ``stopping`` (see ``stop_on_signals``), ends the loop between two sessions and
    wakes it from a sleep at once. When the database is unavailable (a restart, a failover)
    it drops the connection, waits (``first_backoff``, doubling up to ``max_backoff``) and
    tries again with a new one.
    """

    idle_interval: float = 5.0
    max_backoff: float = 30.0
    first_backoff: float = 1.0
    handle_one: Callable[[], bool] = assign_next_waiting
    stopping: threading.Event = field(default_factory=threading.Event)
    assigned: int = 0
    database_errors: int = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Run until stopped; returns how many sessions it assigned."""
        logger.info(
            "worker started idle_interval=%s",
            self.idle_interval,
            extra={"worker_event": "started", "idle_interval_s": self.idle_interval},
        )
        backoff = self.first_backoff
        while not self.stopping.is_set():
            try:
                worked = self.handle_one()
            except RECOVERABLE_DATABASE_ERRORS as error:
                self._database_unavailable(error, retry_in=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.first_backoff
            if worked:
                self.assigned += 1
            else:
                self.stopping.wait(self.idle_interval)
        logger.info(
            "worker stopped assigned=%s",
            self.assigned,
            extra={"worker_event": "stopped", "assigned": self.assigned},
        )
        return self.assigned

    def _database_unavailable(self, error: Exception, *, retry_in: float) -> None:
        self.database_errors += 1
        logger.warning(
            "worker database unavailable, retrying in %ss: %s",
            retry_in,
            error,
            extra={"worker_event": "database_unavailable", "retry_in_s": retry_in},
        )
        # The connection may be dead (a restarted server): drop it, so the next attempt
        # opens a new one instead of failing on the old socket forever.
        connection.close()


@contextmanager
def stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """Set ``stopping`` on SIGTERM and SIGINT instead of dying mid-transaction.

    Restores the previous handlers afterwards. Signal handlers can only be installed from
    the main thread; elsewhere (a test running a command in a thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in previous:
        signal.signal(number, lambda *_: stopping.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# --- Closing idle sessions -----------------------------------------------------------------


@dataclass(frozen=True)
class IdleSessions:
    now: datetime
    cutoff: datetime  # idle: no message since this instant (inclusive)
    session_ids: list[int]


def idle_sessions(*, idle_for: timedelta, now: datetime | None = None) -> IdleSessions:
    """Open sessions with no message for ``idle_for`` (waiting ones too), least recently
    active first."""
    now = now or timezone.now()
    cutoff = now - idle_for
    ids = (
        ChatSession.objects.filter(status=ChatSession.Status.OPEN, last_message_at__lte=cutoff)
        .order_by("last_message_at", "id")
        .values_list("id", flat=True)
    )
    return IdleSessions(now=now, cutoff=cutoff, session_ids=list(ids))


def close_idle_sessions(
    *, idle: IdleSessions, on_progress: Callable[[int], None] | None = None
) -> list[int]:
    """Close the sessions ``idle_sessions()`` listed, one short transaction each; returns
    the ids of those it closed (a session that got a message meanwhile stays open)."""
    closed = []
    for done, session_id in enumerate(idle.session_ids, start=1):
        if close_idle_session(session_id=session_id, cutoff=idle.cutoff, now=idle.now):
            closed.append(session_id)
        if on_progress is not None:
            on_progress(done)
    return closed


def close_idle_session(*, session_id: int, cutoff: datetime, now: datetime) -> bool:
    """Close one session if it is still open and idle since ``cutoff``; True if closed.

    The session row is locked and re-checked first: a message that arrived since the list
    was made keeps its session open. Closing goes through the policy, which frees the
    staff member's capacity.
    """
    with transaction.atomic():
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .filter(pk=session_id, status=ChatSession.Status.OPEN, last_message_at__lte=cutoff)
            .first()
        )
        return session is not None and policy.session_close(session=session, now=now)


# --- Returning an away staff member's sessions to the queue ---------------------------------


def staff_by_email(email: str) -> Staff:
    member = Staff.objects.filter(email__iexact=email.strip()).first()
    if member is None:
        raise MaintenanceError(f"No staff member has the email address {email!r}.")
    return member


def return_to_queue(*, staff: Staff, force: bool = False, now: datetime | None = None) -> list[int]:
    """Put ``staff``'s open sessions back in the waiting queue; returns their ids.

    Refused (MaintenanceError, nothing changed) while the staff member is active, unless
    ``force``: an active staff member would get new sessions at once, so returning theirs
    is rarely what was meant. Each session is unassigned, the staff member's open count
    goes down, and an event of kind "returned" records it. The sessions keep their
    creation time, so they go to the front of the queue, and ``assign_waiting`` spreads
    them over the staff on duty.
    """
    with transaction.atomic():
        # The assignment lock: no decision about who is next runs while sessions move.
        policy.lock_assignment_settings()
        now = now or timezone.now()
        member = Staff.objects.get(pk=staff.pk)
        if member.active and not force:
            raise MaintenanceError(
                f"{member.name} <{member.email}> is not away. Mark them away first, or use "
                "--force to return their sessions anyway."
            )
        sessions = list(
            ChatSession.objects.select_for_update(of=("self",))
            .filter(assigned_staff=member, status=ChatSession.Status.OPEN)
            .order_by("created_at", "id")
        )
        if not sessions:
            return []
        ids = [session.pk for session in sessions]
        ChatSession.objects.filter(pk__in=ids).update(assigned_staff=None, assigned_at=None)
        Staff.objects.filter(pk=member.pk).update(
            open_sessions=Greatest(F("open_sessions") - len(ids), Value(0))
        )
        reason = (
            f"returned to the waiting queue: {member.name} is away"
            if not member.active
            else f"returned to the waiting queue by an operator ({member.name} is not away)"
        )
        AssignmentEvent.objects.bulk_create(
            AssignmentEvent(
                session=session,
                staff=member,
                kind=AssignmentEvent.Kind.RETURNED,
                reason=reason[:255],
                created_at=now,
            )
            for session in sessions
        )
    return ids


# --- For the commands: progress on a terminal ---------------------------------------------


class TerminalProgress:
    """A one-line counter on a terminal, redrawn at most every ``every`` seconds.

    Silent when ``stream`` is not a terminal (cron, a pipe, a log file), so scheduled runs
    stay quiet. Call it with the number done so far; ``finish()`` ends the line.
    """

    def __init__(self, stream: TextIO, *, label: str, total: int, every: float = 0.2) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) and total > 0
        self.stream, self.label, self.total, self.every = stream, label, total, every
        self.started = time.monotonic()
        self.drawn_at: float | None = None

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        moment = time.monotonic()
        if self.drawn_at is not None and moment - self.drawn_at < self.every:
            return
        self.drawn_at = moment
        self._draw(done, moment)

    def finish(self, done: int) -> None:
        if self.enabled and self.drawn_at is not None:
            self._draw(done, time.monotonic())
            self._write("\n")

    def _draw(self, done: int, moment: float) -> None:
        percent = min(100, done * 100 // self.total)
        rate = done / max(moment - self.started, 1e-6)
        self._write(f"\r{self.label}: {done:,} of {self.total:,} ({percent}%), {rate:,.0f}/s")

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            # A command's stderr: no newline added, and not coloured as an error.
            self.stream.write(text, style_func=_unstyled, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()


def _unstyled(text: str) -> str:
    return text
