"""Demo data that tells the story: three zones, eight staff, sessions in every state.

Idempotent: the configuration is upserted through the import (so every rule applies), and
sessions are added only once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from assignment import config, policy
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import ChatSession

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DEMO_CONFIG = {
    "auto_assign": True,
    "working_times": [
        {
            "name": "Taipei day",
            "timezone": "Asia/Taipei",
            "hours": {day: [["09:00", "18:00"]] for day in WEEKDAYS},
        },
        {
            "name": "London day",
            "timezone": "Europe/London",
            "hours": {
                **{day: [["08:00", "17:00"]] for day in WEEKDAYS},
                "sat": [["10:00", "16:00"]],
            },
        },
        {
            "name": "New York night",
            "timezone": "America/New_York",
            "hours": {day: [["22:00", "06:00"]] for day in ("sun", "mon", "tue", "wed", "thu")},
        },
    ],
    "staff": [
        {"email": "mei@example.com", "name": "Mei Lin", "working_time": "Taipei day"},
        {
            "email": "kai@example.com",
            "name": "Kai Chen",
            "working_time": "Taipei day",
            "max_open_sessions": 2,
        },
        {"email": "oliver@example.com", "name": "Oliver Hughes", "working_time": "London day"},
        {
            "email": "amelia@example.com",
            "name": "Amelia Brown",
            "working_time": "London day",
            "active": False,
        },
        {"email": "harry@example.com", "name": "Harry Patel", "working_time": "London day"},
        {"email": "maya@example.com", "name": "Maya Johnson", "working_time": "New York night"},
        {"email": "leo@example.com", "name": "Leo Garcia", "working_time": "New York night"},
        {"email": "nora@example.com", "name": "Nora Smith", "working_time": None},
    ],
}
DEMO_CUSTOMERS = [
    ("line", "U-1001", "Chen Wei", "Is the blue jacket back in stock?"),
    ("web", "w-2002", "Sophie Turner", "My parcel has not arrived yet."),
    ("messenger", "m-3003", "Lucas Martin", "Can I change my delivery address?"),
    ("whatsapp", "+44700900123", "Grace Lee", "Do you ship to Ireland?"),
    ("web", "w-2005", "Daniel Kim", "I was charged twice."),
    ("line", "U-1006", "Yuki Sato", "Gift wrapping?"),
    ("web", "w-2007", "Emma Wilson", "Return label please."),
    ("messenger", "m-3008", "Noah Davis", "Size guide for boots?"),
]


def seed_demo(*, now: datetime | None = None) -> dict[str, int]:
    """Load the demo store; returns how many sessions it added (0 when already there)."""
    now = now or timezone.now()
    with transaction.atomic():
        config.import_config({**DEMO_CONFIG, "auto_assign": False})
        added = 0 if ChatSession.objects.exists() else _add_sessions(now)
        config.auto_assign_set(enabled=True)
    while policy.assign_one_waiting() is not None:
        pass
    return {"sessions_added": added}


def _add_sessions(now: datetime) -> int:
    """Sessions opened while the toggle was off: some closed, the rest left to the queue."""
    for index, (channel, customer_id, name, text) in enumerate(DEMO_CUSTOMERS):
        received = now - timedelta(minutes=90 - index * 9)
        incoming = IncomingMessage(
            message_id=f"demo-{customer_id}",
            customer_id=customer_id,
            channel=channel,
            customer_name=name,
            text=text,
        )
        ingest_message(incoming=incoming, now=received)
    for session in ChatSession.objects.order_by("created_at")[:3]:
        policy.session_close(session=session, now=now - timedelta(minutes=5))
    return len(DEMO_CUSTOMERS)


def ensure_manager(*, username: str = "manager") -> tuple[str, str]:
    """Create (or reset) the demo manager login with a fresh random password."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return username, password
