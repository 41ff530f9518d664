"""Outbound events: the endpoints that subscribe, the outbox of events, one delivery each.

``Event`` is the transactional outbox: a row written in the same transaction as the change
it reports (``events.outbox``), so a rolled-back change sends nothing and a committed one is
never lost. The worker (``events.delivery``) fans each event out to a ``Delivery`` per
subscribed endpoint and sends those: the outbox table is the queue.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SESSION_ASSIGNED = "session.assigned", _("Session assigned")
    SESSION_QUEUED = "session.queued", _("Session queued")
    SESSION_RETURNED = "session.returned", _("Session returned to the queue")
    SESSION_CLOSED = "session.closed", _("Session closed")
    PING = "ping", _("Test event (ping)")


# The types an endpoint can subscribe to; a ping goes to the one endpoint it tests.
SUBSCRIBABLE_TYPES = [
    EventType.SESSION_ASSIGNED,
    EventType.SESSION_QUEUED,
    EventType.SESSION_RETURNED,
    EventType.SESSION_CLOSED,
]


class Endpoint(models.Model):
    """A URL of the chat platform that receives signed events."""

    url = models.URLField(_("URL"), max_length=2000)
    event_types = models.JSONField(
        _("event types"), default=list, help_text=_("The event types it receives.")
    )
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    # The secrets sign; they are never shown after creation or rotation.
    secret = models.CharField(_("secret"), max_length=200, editable=False)
    previous_secret = models.CharField(
        _("previous secret"), max_length=200, blank=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret expires at"), null=True, blank=True, editable=False
    )
    # Since when every attempt failed (None after a success): 5 days of it disables.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("event endpoint")
        verbose_name_plural = _("event endpoints")

    def __str__(self) -> str:
        return self.url

    def receives(self, event_type: str) -> bool:
        return event_type in self.event_types


class Event(models.Model):
    """One change to report (the outbox row); ``webhook_id`` is its id on every attempt."""

    webhook_id = models.CharField(_("webhook-id"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    session = models.ForeignKey(
        "assignment.ChatSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_events",
        verbose_name=_("session"),
        db_constraint=True,
    )
    # A ping is for one endpoint only; other events go to every endpoint subscribed.
    endpoint = models.ForeignKey(
        Endpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pings",
        verbose_name=_("endpoint"),
    )
    # The event's data without the session's channel and customer id, which never change and
    # are joined when the body is built (so the write under the assignment lock reads nothing).
    data = models.JSONField(_("data"), default=dict)
    happened_at = models.DateTimeField(_("happened at"))
    fanned_out = models.BooleanField(_("fanned out"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")
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
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Given up")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    # The event's session, copied: the order per session per endpoint is checked on it.
    session_id = models.BigIntegerField(_("session id"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # A worker's claim; once it has passed, another worker may send it (same webhook-id).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=1000, blank=True)
    # Retries go on for three days from the first attempt (a delivery held back behind an
    # earlier one of its session gets its own three days).
    first_attempt_at = models.DateTimeField(_("first attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
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
