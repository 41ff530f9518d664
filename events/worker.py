"""``deliver_events --loop``: rounds of ``events.delivery`` until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import threading

from django.db import connection

from assignment.queue_worker import RECOVERABLE_DATABASE_ERRORS, stop_on_signals
from events import delivery

logger = logging.getLogger("chatassist.events")


def run_worker(
    *,
    idle_interval: float = 1.0,
    max_backoff: float = 30.0,
    stopping: threading.Event | None = None,
    senders: int | None = None,
) -> delivery.Round:
    """Deliver until stopped; sleeps ``idle_interval`` when nothing is due, and waits for a
    database that went away (a restart) with a doubling backoff."""
    stopping = stopping or threading.Event()
    total = delivery.Round(0, 0, 0)
    backoff = 1.0
    with stop_on_signals(stopping), delivery.Dispatcher(senders=senders) as dispatcher:
        while not stopping.is_set():
            try:
                done = delivery.run_round(dispatcher)
            except RECOVERABLE_DATABASE_ERRORS as error:
                logger.warning("events worker: database unavailable (%s), retrying", error)
                connection.close()
                stopping.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            backoff = 1.0
            total += done
            if not done.worked:
                stopping.wait(idle_interval)
    return total
