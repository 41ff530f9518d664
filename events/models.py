"""Outbound events: the endpoints that subscribe, the outbox of events, one delivery each.

``Event`` is the transactional outbox: a row written in the same transaction as the change
it reports (``events.outbox``), so a rolled-back change sends nothing and a committed one is
never lost. The worker (``events.delivery``) fans each event out to a ``Delivery`` per
subscribed endpoint and sends those: the outbox table is the queue.
"""

from __future__ import annotations

from django.db import models


class EventType(models.TextChoices):
    SESSION_ASSIGNED = "session.assigned", "Session assigned"
    SESSION_QUEUED = "session.queued", "Session queued"
    SESSION_RETURNED = "session.returned", "Session returned to the queue"
    SESSION_CLOSED = "session.closed", "Session closed"
    PING = "ping", "Test event (ping)"


# The types an endpoint can subscribe to; a ping goes to the one endpoint it tests.
SUBSCRIBABLE_TYPES = [
    EventType.SESSION_ASSIGNED,
    EventType.SESSION_QUEUED,
    EventType.SESSION_RETURNED,
    EventType.SESSION_CLOSED,
]


class Endpoint(models.Model):
    """A URL of the chat platform that receives signed events."""

    url = models.URLField("URL", max_length=2000)
    event_types = models.JSONField(default=list, help_text="The event types it receives.")
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The secrets sign; they are never shown after creation or rotation.
    secret = models.CharField(max_length=200, editable=False)
    previous_secret = models.CharField(max_length=200, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Since when every attempt failed (None after a success): 5 days of it disables.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "event endpoint"

    def __str__(self) -> str:
        return self.url

    def receives(self, event_type: str) -> bool:
        return event_type in self.event_types


class Event(models.Model):
    """One change to report (the outbox row); ``webhook_id`` is its id on every attempt."""

    webhook_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=32, choices=EventType.choices)
    session = models.ForeignKey(
        "assignment.ChatSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_events",
        db_constraint=True,
    )
    # A ping is for one endpoint only; other events go to every endpoint subscribed.
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="pings"
    )
    # The event's data without the session's channel and customer id, which never change and
    # are joined when the body is built (so the write under the assignment lock reads nothing).
    data = models.JSONField(default=dict)
    happened_at = models.DateTimeField()
    fanned_out = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(fanned_out=False), name="event_not_fanned_out"
            ),
            models.Index(fields=["session", "id"], name="event_session_order"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"


class Delivery(models.Model):
    """One event to one endpoint: its attempts, claim and last answer."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Given up"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The event's session, copied: the order per session per endpoint is checked on it.
    session_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker's claim; once it has passed, another worker may send it (same webhook-id).
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    # Retries go on for three days from the first attempt (a delivery held back behind an
    # earlier one of its session gets its own three days).
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["endpoint", "session_id", "event"],
                condition=models.Q(status="pending"),
                name="delivery_pending_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"
