"""The waiting-queue worker (``assign_waiting``): hands waiting sessions to the policy, oldest
first, once (``drain_queue``) or as long as the process runs (``QueueWorker``).

Who gets each session is decided by ``assignment.policy``; this module only decides when
to ask, how to stop cleanly, and how to wait for a database that went away.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError, connection

from assignment import handover, policy

logger = logging.getLogger("chatassist.worker")

# Errors that mean "the database went away or is busy", worth waiting for and retrying.
# Anything else (a bug, a broken constraint) stops the worker: a supervisor restarts it
# and the traceback is in the log.
RECOVERABLE_DATABASE_ERRORS = (OperationalError, InterfaceError)


def handle_one_waiting() -> bool:
    """One decision of the queue: assign the oldest waiting session now; False when there is
    nothing to do (the queue is empty, nobody on duty has room, or automatic assignment is
    off). One transaction, so a stop between two calls never leaves half an assignment."""
    return policy.assign_oldest_waiting().assigned


def hand_over_due() -> int:
    """The hand-overs due now (``assignment.handover``): sessions of away staff and of
    ended shifts back to the queue, unanswered sessions to the next in line; how many."""
    return handover.hand_over_due().count


def drain_queue(
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Assign waiting sessions until none can be, then make the hand-overs due, and again
    while those returned sessions to the queue; returns how many were assigned."""
    assigned = 0
    while not should_stop():
        if handle_one_waiting():
            assigned += 1
            if on_progress is not None:
                on_progress(assigned)
        elif should_stop() or not hand_over_due():
            break
    return assigned


@dataclass
class QueueWorker:
    """``assign_waiting --loop``: assign waiting sessions as long as the process runs.

    A loop of ``handle_one()`` calls, each one session in one transaction; when the queue
    has nothing to assign, ``hand_over()`` makes the hand-overs due. When there is
    nothing to do it sleeps ``idle_interval`` seconds. ``stop()``, or a signal handler
    setting ``stopping`` (see ``stop_on_signals``), ends the loop between two sessions and
    wakes it from a sleep at once. When the database is unavailable (a restart, a failover)
    it drops the connection, waits (``first_backoff``, doubling up to ``max_backoff``) and
    tries again with a new one.
    """

    idle_interval: float = 5.0
    max_backoff: float = 30.0
    first_backoff: float = 1.0
    handle_one: Callable[[], bool] = handle_one_waiting
    hand_over: Callable[[], int] = hand_over_due
    stopping: threading.Event = field(default_factory=threading.Event)
    assigned: int = 0
    handed_over: int = 0
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
                # The queue first (first come, first served), then the hand-overs; what
                # they return to the queue is served on the next turn.
                handed_over = 0 if worked else self.hand_over()
            except RECOVERABLE_DATABASE_ERRORS as error:
                self._database_unavailable(error, retry_in=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.first_backoff
            self.handed_over += handed_over
            if worked:
                self.assigned += 1
            elif not handed_over:
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
