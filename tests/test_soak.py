"""Many processes at once, for SOAK_SECONDS (CI: 15 s; the long form SOAK_SECONDS=60):
gunicorn with two workers serving webhook senders, two ``assign_waiting --loop`` workers,
``close_idle_sessions --idle-for 2s`` in a loop, and managers (tests/soak_chaos.py) marking
staff away and back (returning their sessions), changing capacities and reassigning
sessions by hand. All on the suite's own PostgreSQL cluster (tests/pg_cluster.py).

Checked while it runs (a snapshot every 50 ms, each in one REPEATABLE READ transaction):
every staff member's counter equals the open sessions they hold, and nobody holds more than
their capacity allows. Checked afterwards, from the assignment events and close times:
each open session is held by the staff member of its last assignment, events of a session
in strictly increasing time, no session closed before its assignment or its last event,
and the exact spread: the three staff who are always on duty with no limit are given
sessions in strict rotation.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from collections import Counter

import psycopg
import pytest

from assignment.signatures import WebhookSecret
from tests import pg_cluster
from tests.gunicorn_server import (
    PYTHON,
    ROOT,
    manage,
    production_env,
    raw_request,
    request_bytes,
    serve,
)

pytestmark = [pytest.mark.postgres]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "15"))
DATABASE = "chatassist_soak"
STEADY, AWAY, CAPACITY = 3, 2, 2  # staff always on / going away and back / changing capacity


def config_file(tmp_path) -> str:
    always = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
    always["sun"] = [["00:00", "24:00"]]
    staff = [
        *({"email": f"steady{n}@example.com", "max_open_sessions": None} for n in range(STEADY)),
        *({"email": f"away{n}@example.com", "max_open_sessions": 2} for n in range(AWAY)),
        *({"email": f"capacity{n}@example.com", "max_open_sessions": 3} for n in range(CAPACITY)),
    ]
    document = {
        "auto_assign": True,
        "working_times": [{"name": "Always", "timezone": "UTC", "hours": always}],
        "staff": [
            {**entry, "name": entry["email"].split("@")[0], "working_time": "Always",
             "active": True}
            for entry in staff
        ],
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return str(path)


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)


SNAPSHOT = """
    SELECT s.email, s.open_sessions, s.max_open_sessions,
           (SELECT count(*) FROM assignment_chatsession c
            WHERE c.assigned_staff_id = s.id AND c.status = 'open')
    FROM staff_staff s
"""
BOUND = {"steady": None, "away": 2, "capacity": 3}  # the most each may ever hold


def watch(url: str, stop: threading.Event, found: list, snapshots: list) -> None:
    with connect(url) as connection:
        while not stop.is_set():
            with connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                rows = connection.execute(SNAPSHOT).fetchall()
            snapshots.append(1)
            for email, counter, _, held in rows:
                bound = BOUND[email.split("@")[0].rstrip("0123456789")]
                if counter != held:
                    found.append(f"{email}: counter {counter}, holds {held}")
                if bound is not None and held > bound:
                    found.append(f"{email}: holds {held}, more than {bound}")
            time.sleep(0.05)


def send(port: int, secret: WebhookSecret, payload: dict, statuses: Counter) -> None:
    body = json.dumps(payload).encode()
    webhook_id = f"evt-{payload['message_id']}"
    for attempt in range(20):
        stamp = int(time.time())
        headers = {
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": secret.sign(msg_id=webhook_id, timestamp=stamp, body=body),
        }
        status = raw_request(
            port, request_bytes("POST", "/webhooks/messages/", headers=headers, body=body)
        ).status
        statuses[status] += 1
        if status < 500:
            return
        time.sleep(0.05 * (attempt + 1))


@pytest.fixture(scope="module")
def cluster():
    reason = pg_cluster.unavailable_reason()
    if reason:
        pytest.skip(f"needs a PostgreSQL cluster of its own: {reason}")
    pg_cluster.ensure_running()
    pg_cluster.recreate_database(DATABASE)
    return pg_cluster.database_url(DATABASE)


def test_many_processes_at_once_keep_every_invariant(cluster, tmp_path):
    env = production_env(
        tmp_path, DATABASE_URL=cluster, STATIC_ROOT=str(tmp_path / "static"), LOG_LEVEL="WARNING"
    )
    for command in (("migrate", "--noinput"), ("import_config", config_file(tmp_path))):
        done = manage(*command, env=env)
        assert done.returncode == 0, done.stderr
    secret = WebhookSecret.parse(env["WEBHOOK_SECRET"])
    statuses: Counter = Counter()
    found: list[str] = []
    snapshots: list[int] = []
    stop = threading.Event()
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("queue1", "queue2", "idle")}
    manage_py = [PYTHON, "manage.py"]
    helpers = [
        subprocess.Popen([*manage_py, "assign_waiting", "--loop", "--interval", "0.2"],
                         cwd=ROOT, env=env, stdout=logs[name], stderr=logs[name])
        for name in ("queue1", "queue2")
    ] + [
        subprocess.Popen(
            ["bash", "-c", f"while true; do {PYTHON} manage.py close_idle_sessions "
                           "--idle-for 2s -v 0; sleep 0.3; done"],
            cwd=ROOT, env=env, stdout=logs["idle"], stderr=logs["idle"], start_new_session=True,
        )
    ]  # fmt: skip
    chaos = subprocess.Popen(
        [PYTHON, "-m", "tests.soak_chaos", "--seconds", str(SOAK_SECONDS)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with serve(env, tmp_path / "gunicorn.log", workers=2) as server:
            watcher = threading.Thread(target=watch, args=(cluster, stop, found, snapshots))
            watcher.start()
            deadline = time.monotonic() + SOAK_SECONDS

            def sender(index: int) -> None:
                chance = random.Random(index)
                number = 0
                while time.monotonic() < deadline:
                    customer = f"c-{chance.randrange(150)}"
                    payload = {"message_id": f"m-{index}-{number}", "customer_id": customer}
                    send(server.port, secret, payload, statuses)
                    number += 1
                    time.sleep(chance.uniform(0.01, 0.05))

            senders = [threading.Thread(target=sender, args=(n,)) for n in range(3)]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join(timeout=SOAK_SECONDS + 120)
            chaos_out, chaos_err = chaos.communicate(timeout=120)
            stop.set()
            watcher.join(timeout=30)
    finally:
        stop.set()
        for process in helpers[:2]:
            process.terminate()
        os.killpg(helpers[2].pid, 15)
        for process in helpers:
            process.wait(timeout=60)
        if chaos.poll() is None:
            chaos.kill()

    assert chaos.returncode == 0, chaos_err
    done_by_managers = json.loads(chaos_out.strip().splitlines()[-1])
    with connect(cluster) as connection:
        events = connection.execute(
            "SELECT e.session_id, s.email, e.kind, e.created_at FROM assignment_assignmentevent e"
            " JOIN staff_staff s ON s.id = e.staff_id ORDER BY e.id"
        ).fetchall()
        sessions = {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT c.id, c.status, s.email, c.assigned_at, c.closed_at"
                " FROM assignment_chatsession c LEFT JOIN staff_staff s"
                " ON s.id = c.assigned_staff_id"
            ).fetchall()
        }
        counters = connection.execute(
            "SELECT email, open_sessions FROM staff_staff ORDER BY email"
        ).fetchall()
        messages = connection.execute("SELECT count(*) FROM assignment_message").fetchone()[0]

    per_session: dict[int, list] = {}
    for session_id, email, kind, created_at in events:
        per_session.setdefault(session_id, []).append((email, kind, created_at))
    closed = [s for s in sessions.values() if s[0] == "closed"]
    kinds = Counter(kind for _, _, kind, _ in events)
    steady_turns = [
        email for _, email, kind, _ in events
        if email.startswith("steady") and kind in ("automatic", "queue")
    ]  # fmt: skip
    print(
        f"\n[soak] {SOAK_SECONDS:.0f} s: {messages} messages stored, answers {dict(statuses)}, "
        f"{len(sessions)} sessions ({len(closed)} closed idle), events {dict(kinds)}, "
        f"managers {done_by_managers}, {len(snapshots)} live snapshots checked, "
        f"steady staff given {dict(Counter(steady_turns))} in rotation"
    )

    assert set(statuses) <= {200, 201}, statuses  # no 5xx: nothing was down
    assert found == [], found[:10]
    assert len(snapshots) > 10 and len(closed) > 0 and kinds["queue"] > 0
    assert done_by_managers["away"] > 0 and done_by_managers["reassigned"] > 0
    for session_id, (status, email, assigned_at, closed_at) in sessions.items():
        history = per_session.get(session_id, [])
        times = [created_at for _, _, created_at in history]
        assert times == sorted(times) and len(set(times)) == len(times), history
        last_holder = None
        for holder, kind, _ in history:
            last_holder = None if kind == "returned" else holder
        assert email == last_holder, (session_id, email, history)
        if status == "closed":
            assert closed_at >= max(times, default=closed_at), (session_id, history, closed_at)
            assert assigned_at is None or closed_at >= assigned_at
    held = Counter(s[1] for s in sessions.values() if s[0] == "open" and s[1] is not None)
    assert dict(counters) == {email: held.get(email, 0) for email, _ in counters}
    # The exact spread: among the staff always on duty without a limit, strict rotation.
    assert len(steady_turns) >= STEADY
    for start in range(len(steady_turns) - STEADY + 1):
        assert len(set(steady_turns[start : start + STEADY])) == STEADY, steady_turns
