"""The body of a delivery, as the contract spells it: ``{"type", "timestamp", "data"}``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from events.models import Event


def utc_timestamp(at: datetime) -> str:
    """``2026-12-01T10:00:00.123456Z``: UTC, always six decimals."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(event: Event, *, channel: str | None, customer_id: str | None) -> dict[str, Any]:
    """The body of ``event``; the session's channel and customer id are joined here."""
    data = dict(event.data)
    stored_session = data.pop("session", None)
    if stored_session is not None:
        data = {
            "session": {
                "id": event.session_id,
                "channel": channel,
                "customer_id": customer_id,
                "status": stored_session["status"],
                "assigned_to": stored_session["assigned_to"],
            },
            **data,
        }
    return {"type": event.type, "timestamp": utc_timestamp(event.happened_at), "data": data}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
