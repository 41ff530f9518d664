"""The outbound events worker's benchmark: events delivered per second to a local receiver,
and the time to drain a backlog (issue 10's figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chatassist_bench_events \\
        .venv/bin/python bench/events.py [--events 10000] [--workers 1,2,4] \\
            [--concurrency 8] [--no-keep-alive]

For each number of workers W: the database named in DATABASE_URL (its name must contain
"bench") is dropped and created again and migrated; one endpoint points at a threaded HTTP
receiver on 127.0.0.1 that answers 204 and checks each signature with the standardwebhooks
library; a backlog of N ``session.assigned`` events is written (one per session, so the
per-session order holds nothing back); then W ``manage.py deliver_events`` processes (one
shot: each returns once nothing is due) drain it. Reports the drain time, events per
second, and what the receiver saw (every webhook-id once, every signature valid). The
receiver keeps connections alive (HTTP/1.1) unless ``--no-keep-alive`` (HTTP/1.0).

The reference, measured in the same run against a receiver of the same kind: one process
that only signs and POSTs the same number of bodies from as many threads as a worker sends
with, through httpx, with no database. It is the ceiling of this receiver and this client on
this machine; the worker's figure beside it shows what the queue costs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import machine, production_environment, reset_database  # noqa: E402

TARGET_EVENTS_PER_SECOND = 200
TARGET_DRAIN_SECONDS = 60


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    # A production server's listen backlog (nginx: 511), not socketserver's 5, which resets
    # connections once more than 5 are being opened at the same moment.
    request_queue_size = 128

    def __init__(self, *, keep_alive: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), _Handler if keep_alive else _ClosingHandler)
        self.verifier: Any = None  # a standardwebhooks.Webhook once the endpoint exists
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.bad_signatures = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    # Keep-alive, as any production web server in front of a platform's webhook handler.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            self.server.verifier.verify(body, dict(self.headers))
            valid = True
        except Exception:
            valid = False
        with self.server.lock:
            self.server.ids.append(self.headers.get("webhook-id", ""))
            self.server.bad_signatures += not valid
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # quiet
        pass


class _ClosingHandler(_Handler):
    """A receiver that closes the connection after each answer (``--no-keep-alive``)."""

    protocol_version = "HTTP/1.0"


def seed_backlog(*, events: int, url: str) -> str:
    """The endpoint (its secret returned) and ``events`` sessions with one event each."""
    from django.utils import timezone

    from assignment.models import ChatSession
    from events import outbox
    from events.models import Event
    from events.services import endpoint_add

    created = endpoint_add(url=url, event_types=None, secret=None)
    now = timezone.now()
    sessions = ChatSession.objects.bulk_create(
        ChatSession(channel="bench", customer_id=f"b-{n}", created_at=now, last_message_at=now)
        for n in range(events)
    )
    staff = _Staff(1, "Alice", "alice@example.com")
    Event.objects.bulk_create(
        outbox._event(
            outbox.EventType.SESSION_ASSIGNED,
            session_id=session.pk,
            data={
                "session": {"status": "open", "assigned_to": outbox.staff_json(staff)},
                "assignment": {"kind": "queue", "reason": "bench", "candidates": 1, "by": None},
            },
            at=now,
        )
        for session in sessions
    )
    return created.secret


class _Staff:
    def __init__(self, id: int, name: str, email: str) -> None:
        self.id, self.name, self.email = id, name, email


def drain(
    *, workers: int, concurrency: int, env: dict[str, str], expected: int, time_limit: float
) -> float:
    """Seconds for ``workers`` one-shot processes to deliver ``expected`` events."""
    from events.models import Delivery

    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "deliver_events",
        f"--concurrency={concurrency}",
    ]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    for process in processes:
        process.wait(timeout=time_limit)
    elapsed = time.perf_counter() - started
    delivered = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
    if delivered != expected:
        raise SystemExit(f"{delivered} of {expected} delivered by {workers} workers")
    return elapsed


def reference_posts(*, url: str, secret: str, count: int, threads: int) -> None:
    """The reference client (run in its own process): ``count`` signed POSTs of a
    ``session.assigned`` body to ``url`` from ``threads`` threads, no database."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    import httpx
    from standardwebhooks import Webhook

    signer = Webhook(secret)
    body = json.dumps(
        {
            "type": "session.assigned",
            "timestamp": "2026-12-01T10:00:00.000000Z",
            "data": {
                "session": {
                    "id": 1,
                    "channel": "bench",
                    "customer_id": "b-1",
                    "status": "open",
                    "assigned_to": {"id": 1, "name": "Alice", "email": "alice@example.com"},
                },
                "assignment": {"kind": "queue", "reason": "bench", "candidates": 1, "by": None},
            },
        },
        separators=(",", ":"),
    )

    with httpx.Client(timeout=10.0) as client:

        def post(number: int) -> int:
            webhook_id = f"ref_{number}"
            now = datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signer.sign(msg_id=webhook_id, timestamp=now, data=body),
            }
            return client.post(url, content=body.encode(), headers=headers).status_code

        with ThreadPoolExecutor(max_workers=threads) as pool:
            statuses = list(pool.map(post, range(count)))
    if statuses.count(204) != count:
        raise SystemExit(f"reference: {statuses.count(204)} of {count} answered 204")


def run_reference(*, events: int, threads: int, keep_alive: bool, time_limit: float) -> dict:
    """The reference in a process of its own, against a fresh receiver: seconds and rate."""
    from standardwebhooks import Webhook

    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    receiver = Receiver(keep_alive=keep_alive)
    receiver.verifier = Webhook(secret)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--reference-client",
                receiver.url,
                secret,
                str(events),
                str(threads),
            ],
            check=True,
            timeout=time_limit,
        )
        seconds = time.perf_counter() - started
    finally:
        receiver.shutdown()
    if receiver.bad_signatures or len(set(receiver.ids)) != events:
        raise SystemExit("reference: the receiver did not get every POST once, signed")
    return {
        "events": events,
        "threads": threads,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", default="1,4")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="deliver_events --concurrency (default 8)"
    )
    parser.add_argument(
        "--no-keep-alive",
        dest="keep_alive",
        action="store_false",
        help="the receiver closes each connection after its answer (HTTP/1.0)",
    )
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--reference-client", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_client:
        url, secret, count, threads = args.reference_client
        reference_posts(url=url, secret=secret, count=int(count), threads=int(threads))
        return 0
    database_url = args.database_url or "postgres://postgres@127.0.0.1:5432/chatassist_bench"
    if "bench" not in database_url.rsplit("/", 1)[-1]:
        raise SystemExit("The database name must contain 'bench': it is dropped and recreated.")
    env = {**production_environment(database_url), "EVENTS_ALLOW_PRIVATE_URLS": "true"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    results = []
    for workers in [int(each) for each in args.workers.split(",")]:
        connections.close_all()
        reset_database(database_url)
        call_command("migrate", verbosity=0)
        receiver = Receiver(keep_alive=args.keep_alive)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            from standardwebhooks import Webhook

            receiver.verifier = Webhook(seed_backlog(events=args.events, url=receiver.url))
            connections.close_all()
            seconds = drain(
                workers=workers,
                concurrency=args.concurrency,
                env=env,
                expected=args.events,
                time_limit=args.time_limit,
            )
        finally:
            receiver.shutdown()
        ids = receiver.ids
        results.append(
            {
                "workers": workers,
                "concurrency": args.concurrency,
                "events": args.events,
                "seconds": round(seconds, 2),
                "events_per_second": round(args.events / seconds, 1),
                "received": len(ids),
                "distinct_webhook_ids": len(set(ids)),
                "bad_signatures": receiver.bad_signatures,
            }
        )
        row = results[-1]
        print(
            f"W={workers} (x{args.concurrency}): {row['events']:,} events in {row['seconds']} s "
            f"({row['events_per_second']}/s); received {row['received']:,}, "
            f"{row['distinct_webhook_ids']:,} distinct ids, {row['bad_signatures']} bad signatures",
            flush=True,
        )
    reference = run_reference(
        events=args.events,
        threads=args.concurrency,
        keep_alive=args.keep_alive,
        time_limit=args.time_limit,
    )
    print(
        f"reference (sign and POST only, {reference['threads']} threads, no database): "
        f"{reference['events']:,} in {reference['seconds']} s ({reference['events_per_second']}/s)",
        flush=True,
    )
    print(json.dumps({"machine": machine(), "results": results, "reference": reference}, indent=2))
    best = max(row["events_per_second"] for row in results)
    fastest = min(row["seconds"] for row in results)
    met = best >= TARGET_EVENTS_PER_SECOND and fastest < TARGET_DRAIN_SECONDS
    print(
        f"target ≥ {TARGET_EVENTS_PER_SECOND}/s and {args.events:,} drained in under "
        f"{TARGET_DRAIN_SECONDS} s: {'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
