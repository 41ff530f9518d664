from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from standardwebhooks import Webhook

from assignment import config
from staff.models import Staff, WorkingTime
from tests.factories import StaffFactory, make_working_time

WEBHOOK_URL = "/webhooks/messages/"


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def sign_headers(body: bytes, *, msg_id: str = "evt-1", timestamp: int | None = None) -> dict:
    """Headers signed by the reference Standard Webhooks library, for the test client."""
    from datetime import UTC, datetime

    timestamp = int(time.time()) if timestamp is None else timestamp
    signer = Webhook(settings.WEBHOOK_SECRET)
    signature = signer.sign(
        msg_id=msg_id, timestamp=datetime.fromtimestamp(timestamp, tz=UTC), data=body.decode()
    )
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
        signed.update(headers)
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
