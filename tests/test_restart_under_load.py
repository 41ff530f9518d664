"""PostgreSQL restarted twice under load, while gunicorn serves webhook deliveries.

The suite's own cluster (tests/pg_cluster.py, port 5437: never the server of DATABASE_URL),
gunicorn with gunicorn.conf.py and the production environment (persistent connections, no
health checks: each stale connection fails once after a restart), senders that retry like
Standard Webhooks senders (the same webhook-id, re-signed, backing off, on any 5xx or
connection error). Afterwards: every acknowledged delivery stored exactly once, no 500,
every session assigned once or waiting, staff counters right; the recovery time after each
restart is printed (docs/RELIABILITY.md has the latest figures).

RESTART_GAP_SECONDS sets the load before, between and after the two restarts (CI: 2 s
each, so about 15 s with the restarts); the long form is RESTART_GAP_SECONDS=20.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import pytest

from assignment.signatures import WebhookSecret
from tests import pg_cluster
from tests.gunicorn_server import manage, production_env, raw_request, request_bytes, serve

pytestmark = [pytest.mark.postgres]

GAP_SECONDS = float(os.environ.get("RESTART_GAP_SECONDS", "2"))
SENDERS = 4
CUSTOMERS = 80
DATABASE = "chatassist_faults"
RETRY_DELAYS = [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]  # then 1 s apart, for up to 60 s


@dataclass
class Attempt:
    at: float  # time.monotonic()
    status: int | None  # None: no HTTP answer (connection refused or reset)


@dataclass
class Delivery:
    message_id: str
    customer_id: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)


def config_file(tmp_path) -> str:
    """Three staff on duty around the clock, room for four sessions each: with 80
    customers some wait."""
    always = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    always["sun"] = [["00:00", "24:00"]]
    document = {
        "auto_assign": True,
        "working_times": [{"name": "Always", "timezone": "UTC", "hours": always}],
        "staff": [
            {"email": f"s{n}@example.com", "name": f"Staff {n}", "working_time": "Always",
             "active": True, "max_open_sessions": 4}
            for n in range(3)
        ],
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return str(path)


def send_until_acknowledged(port: int, secret: WebhookSecret, delivery: Delivery) -> None:
    body = json.dumps(
        {"message_id": delivery.message_id, "customer_id": delivery.customer_id, "text": "hi"}
    ).encode()
    webhook_id = f"evt-{delivery.message_id}"
    deadline = time.monotonic() + 60
    delays = iter(RETRY_DELAYS)
    while True:
        stamp = int(time.time())
        headers = {
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": secret.sign(msg_id=webhook_id, timestamp=stamp, body=body),
        }
        try:
            answer = raw_request(
                port, request_bytes("POST", "/webhooks/messages/", headers=headers, body=body)
            )
            status: int | None = answer.status
        except OSError:
            status = None
        delivery.attempts.append(Attempt(time.monotonic(), status))
        if status is not None and status < 500:
            return  # 2xx: acknowledged; 4xx would be final (and fails the test below)
        if time.monotonic() > deadline:
            return
        time.sleep(next(delays, 1.0))


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def cluster():
    reason = pg_cluster.unavailable_reason()
    if reason:
        pytest.skip(f"needs a PostgreSQL cluster of its own: {reason}")
    pg_cluster.ensure_running()
    pg_cluster.recreate_database(DATABASE)
    return pg_cluster.database_url(DATABASE)


def test_every_acknowledged_delivery_is_stored_once_across_two_restarts(cluster, tmp_path):
    env = production_env(
        tmp_path, DATABASE_URL=cluster, STATIC_ROOT=str(tmp_path / "static"), LOG_LEVEL="WARNING"
    )
    for command in (("migrate", "--noinput"), ("import_config", config_file(tmp_path))):
        done = manage(*command, env=env)
        assert done.returncode == 0, done.stderr
    secret = WebhookSecret.parse(env["WEBHOOK_SECRET"])
    deliveries: list[Delivery] = []
    restarts: list[tuple[float, float]] = []  # (stop begun, accepting connections again)

    with serve(env, tmp_path / "gunicorn.log", workers=2) as server:
        stopping = threading.Event()

        def sender(index: int) -> None:
            number = 0
            while not stopping.is_set():
                delivery = Delivery(
                    f"m-{index}-{number}", f"c-{(index * 7919 + number * 31) % CUSTOMERS}"
                )
                deliveries.append(delivery)
                send_until_acknowledged(server.port, secret, delivery)
                number += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for _ in range(2):
            time.sleep(GAP_SECONDS)
            begun = time.monotonic()
            pg_cluster.restart()
            restarts.append((begun, time.monotonic()))
        time.sleep(GAP_SECONDS)
        stopping.set()
        for thread in threads:
            thread.join(timeout=120)
        run_seconds = time.monotonic() - started
        server_log = server.log()

    attempts = [attempt for delivery in deliveries for attempt in delivery.attempts]
    statuses = Counter(attempt.status for attempt in attempts)
    successes = sorted(a.at for a in attempts if a.status is not None and a.status < 300)
    after = [next((at for at in successes if at >= ready), None) for _, ready in restarts]
    before = [max((at for at in successes if at <= begun), default=None) for begun, _ in restarts]
    # From "accepting connections" to the next acknowledged delivery; and from the last
    # acknowledgement before the stop to the first after the start.
    recoveries = [
        (a - r) if a is not None else None for a, (_, r) in zip(after, restarts, strict=True)
    ]
    outages = [
        (a - b) if a is not None and b is not None else None
        for a, b in zip(after, before, strict=True)
    ]
    retried = sum(1 for delivery in deliveries if len(delivery.attempts) > 1)
    print(
        f"\n[restart] {run_seconds:.1f} s, {len(deliveries)} deliveries, {len(attempts)} "
        f"attempts, statuses {dict(statuses)}, {retried} deliveries retried; restarts took "
        f"{[round(ready - begun, 2) for begun, ready in restarts]} s; recovery after the "
        f"server was back {[r and round(r, 3) for r in recoveries]} s; no acknowledgement for "
        f"{[o and round(o, 2) for o in outages]} s"
    )

    # Nothing but 200/201 and 503 (with Retry-After, which senders honour by retrying).
    assert set(statuses) <= {200, 201, 503}, statuses
    assert statuses[503] > 0, "the restarts did not reach the webhook (the test tried nothing)"
    assert all(delivery.acknowledged for delivery in deliveries)
    # Errors logged: each a 503 (the webhook's "database unavailable" and Django's line for
    # the same response); nothing else went wrong in gunicorn or the app.
    errors = [
        line
        for line in (json.loads(text) for text in server_log.splitlines() if text.startswith("{"))
        if line["level"] in ("ERROR", "CRITICAL")
    ]
    assert errors
    for error in errors:
        from_a_503 = 503 in (error.get("status"), error.get("status_code"))
        assert from_a_503 or error["message"].startswith("webhook database error"), error
    assert len(restarts) == 2
    assert all(recovery is not None and recovery < 5 for recovery in recoveries), recoveries

    stored = Counter(row[0] for row in query(cluster, "SELECT message_id FROM assignment_message"))
    assert set(stored) == {delivery.message_id for delivery in deliveries}
    assert set(stored.values()) == {1}
    sessions = query(
        cluster,
        "SELECT s.id, s.assigned_staff_id, s.status, "
        "(SELECT count(*) FROM assignment_assignmentevent e WHERE e.session_id = s.id) "
        "FROM assignment_chatsession s",
    )
    for _, staff_id, status, events in sessions:
        assert status == "open"
        assert (staff_id is None and events == 0) or (staff_id is not None and events == 1)
    open_per_staff = Counter(staff_id for _, staff_id, _, _ in sessions if staff_id is not None)
    counters = dict(query(cluster, "SELECT id, open_sessions FROM staff_staff"))
    assert counters == {staff: open_per_staff.get(staff, 0) for staff in counters}
    assert all(count <= 4 for count in counters.values())
    customers = Counter(query(cluster, "SELECT customer_id FROM assignment_chatsession"))
    assert set(customers.values()) == {1}  # one open session per customer
