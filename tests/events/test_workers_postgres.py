"""Several workers at once, and a worker killed mid-delivery (PostgreSQL: real processes,
real row locks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone
from standardwebhooks import Webhook

from events import delivery
from events.models import Delivery
from tests.events.conftest import Answer
from tests.factories import ChatSessionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_mid_delivery_loses_nothing(receiver, endpoint, auto_assign_on):
    hold = threading.Event()
    receiver.answer(Answer(hold=hold))
    ChatSessionFactory()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_events"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "EVENTS_ALLOW_PRIVATE_URLS": "true",
            "EVENTS_CLAIM_SECONDS": "30",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert receiver.arrived.wait(30), "the worker never posted"
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        hold.set()
        if worker.poll() is None:
            worker.kill()

    claimed = Delivery.objects.get()
    assert claimed.status == Delivery.Status.PENDING
    assert claimed.claimed_until > timezone.now()
    assert delivery.deliver_all_due().attempted == 0  # still the dead worker's claim

    done = delivery.deliver_all_due(clock=lambda: timezone.now() + timedelta(seconds=31))

    assert done.delivered == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert Webhook(endpoint.secret).verify(second.body, second.headers)["type"] == (
        "session.assigned"
    )
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_concurrent_workers_never_claim_the_same_delivery(receiver, endpoint, auto_assign_on):
    for _ in range(60):
        ChatSessionFactory()
    delivery.fan_out(now=timezone.now())
    claims: list[list[int]] = []
    start = threading.Barrier(4)

    def claim_until_empty() -> None:
        mine: list[int] = []
        start.wait()
        try:
            while True:
                _token, ids = delivery.claim_due(now=timezone.now(), limit=3)
                if not ids:
                    break
                mine.extend(ids)
        finally:
            connections.close_all()
        claims.append(mine)

    threads = [threading.Thread(target=claim_until_empty) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    every = [each for mine in claims for each in mine]
    assert len(every) == len(set(every)) == 60
