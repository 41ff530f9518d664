"""SQL per webhook, counted in this process on the code path gunicorn runs.

Two counts per delivery, both through the Django test client (all middleware, the view,
ingestion, the signal, the policy):

* ``statements``: what Django executes (``CaptureQueriesContext``);
* ``round_trips``: every exchange with the server, read from libpq's protocol trace
  (``ReadyForQuery`` messages), so it also counts what psycopg sends by itself: ``BEGIN``,
  ``COMMIT`` and Django's connection health check.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assignment.signatures import WebhookSecret

PATH = "/webhooks/messages/"


@dataclass(frozen=True)
class Count:
    status: int
    statements: int
    round_trips: int
    sql: list[str]


def count_webhook_cases(secret: WebhookSecret, prefix: str) -> dict[str, Count]:
    client = Client(SERVER_NAME="127.0.0.1")
    first = {"message_id": f"{prefix}-m1", "customer_id": f"{prefix}-c1", "text": "Hello"}
    follow_up = {"message_id": f"{prefix}-m2", "customer_id": f"{prefix}-c1", "text": "Hi?"}
    conflict = {**first, "text": "Something else"}
    # Warm up first, as a running worker is: the connection, Django's caches, and the
    # policy's prepared statements (prepared on their second run, see settings).
    for warm in range(3):
        _deliver(
            client, secret, {"message_id": f"{prefix}-w{warm}", "customer_id": f"{prefix}-w{warm}"}
        )
    return {
        "new session, assigned": _deliver(client, secret, first),
        "follow-up": _deliver(client, secret, follow_up),
        "redelivery": _deliver(client, secret, first),
        "conflict": _deliver(client, secret, conflict),
    }


def _deliver(client: Client, secret: WebhookSecret, payload: dict) -> Count:
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    msg_id = f"evt-{payload['message_id']}"
    headers = {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": secret.sign(msg_id=msg_id, timestamp=timestamp, body=body),
    }
    # What request_started does in a server (the test client skips it): arms Django's
    # connection health check, which then runs at the first query of the request.
    connection.close_if_unusable_or_obsolete()
    connection.ensure_connection()
    with tempfile.TemporaryFile() as trace, CaptureQueriesContext(connection) as captured:
        pgconn = connection.connection.pgconn
        pgconn.trace(trace.fileno())
        try:
            response = client.post(PATH, data=body, content_type="application/json", **headers)
        finally:
            pgconn.untrace()
        trace.seek(0)
        round_trips = sum(
            1
            for line in trace.read().decode(errors="replace").splitlines()
            if "ReadyForQuery" in line
        )
    return Count(
        status=response.status_code,
        statements=len(captured.captured_queries),
        round_trips=round_trips,
        sql=[query["sql"] for query in captured.captured_queries],
    )
