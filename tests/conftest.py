from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from standardwebhooks import Webhook

from assignment import config
from assignment.signatures import WebhookSecret
from staff.models import Staff, WorkingTime
from tests.factories import StaffFactory, make_working_time

WEBHOOK_URL = "/webhooks/messages/"


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """Compile locale/*.po to .mo when a catalogue changed since (``make test`` already has;
    a bare ``pytest`` run needs it too, or every page would stay English)."""
    from django.core.management import call_command

    stale = [
        po
        for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        for po in stale:
            call_command(
                "compilemessages",
                locale=[po.parent.parent.name],
                ignore_patterns=[".venv"],
                verbosity=0,
            )


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # tests/settings.py sets the same


def sign_headers(body: bytes, *, msg_id: str = "evt-1", timestamp: int | None = None) -> dict:
    """Headers signed by the reference Standard Webhooks library, for the test client.

    The reference library only signs text; a body that is not UTF-8 is signed by our own
    implementation (whose agreement with the library the other cases prove).
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    try:
        text = body.decode("utf-8")
        signature = Webhook(TEST_SECRET).sign(
            msg_id=msg_id, timestamp=datetime.fromtimestamp(timestamp, tz=UTC), data=text
        )
    except UnicodeDecodeError:
        secret = WebhookSecret.parse(TEST_SECRET)
        signature = secret.sign(msg_id=msg_id, timestamp=timestamp, body=body)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


@pytest.fixture
def post_message(client: Client) -> Callable:
    """Post a signed webhook delivery; ``payload`` may be a dict or raw bytes."""

    def post(payload, *, content_type: str = "application/json", **headers):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signed = sign_headers(body)
        # CONTENT_TYPE explicitly: the test client drops it when the body is empty.
        signed.update({"CONTENT_TYPE": content_type, **headers})
        return client.post(WEBHOOK_URL, data=body, content_type=content_type, **signed)

    return post


@pytest.fixture
def always_on() -> WorkingTime:
    return make_working_time()


@pytest.fixture
def cast(always_on) -> dict[str, Staff]:
    """A small named cast, all on duty around the clock, added in this order."""
    return {
        name: StaffFactory(name=name.title(), email=f"{name}@example.com", working_time=always_on)
        for name in ("alice", "bob", "carol")
    }


@pytest.fixture
def auto_assign_on(cast) -> None:
    config.auto_assign_set(enabled=True)
