"""Sessions, messages, the auto-assignment toggle and the record of every assignment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from staff.models import Staff


class AssignmentSettings(models.Model):
    """The store's one row of assignment settings (id is always 1).

    Its row is also the lock that serialises every decision about who is next: see
    ``assignment.policy``.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    auto_assign = models.BooleanField(
        _("automatically assign sessions"),
        default=False,
        help_text=_("Only on while at least one staff member has a working time."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_decision_at = models.DateTimeField(
        _("last decision at"),
        null=True,
        editable=False,
        help_text=_("The stamp of the latest automatic decision; the next is never earlier."),
    )

    class Meta:
        verbose_name = verbose_name_plural = _("assignment settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="assignment_settings_single_row")
        ]

    def __str__(self) -> str:
        return f"Automatic assignment {'on' if self.auto_assign else 'off'}"


class ChatSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    channel = models.CharField(_("channel"), max_length=32, default="web")
    customer_id = models.CharField(_("customer ID"), max_length=128)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    assigned_staff = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("assigned staff"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_message_at = models.DateTimeField(_("last message at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "customer_id"],
                condition=models.Q(status="open"),
                name="one_open_session_per_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "closed"]), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(assigned_staff__isnull=True, assigned_at__isnull=True)
                | models.Q(assigned_staff__isnull=False, assigned_at__isnull=False),
                name="session_assigned_with_time",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False),
                name="session_closed_with_time",
            ),
        ]
        indexes = [
            # The waiting queue, oldest first.
            models.Index(
                "created_at",
                "id",
                condition=models.Q(status="open", assigned_staff__isnull=True),
                name="session_waiting_queue",
            ),
            models.Index(
                "last_message_at",
                condition=models.Q(status="open"),
                name="session_open_by_activity",
            ),
        ]

    def __str__(self) -> str:
        who = self.customer_name or self.customer_id
        return f"#{self.pk} {who} ({self.channel})"

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.OPEN and self.assigned_staff_id is None


class Message(models.Model):
    """A customer message. Keeps what is needed to answer a redelivery identically."""

    message_id = models.CharField(_("message ID"), max_length=128, unique=True)
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("session")
    )
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    sent_at = models.DateTimeField(
        _("sent at"), null=True, blank=True, help_text=_("Empty: sender gave none.")
    )
    received_at = models.DateTimeField(_("received at"))
    # SHA-256 of the delivery's fields after defaults: a redelivery with the same digest is
    # a repeat (answered with `response`), any other is a conflict.
    content_digest = models.CharField(_("content digest"), max_length=64)
    response = models.JSONField(
        _("response"), help_text=_("The body answered to the first delivery.")
    )

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return self.message_id


class AssignmentEvent(models.Model):
    """One assignment of a session to a staff member, with the reason in words.

    Kind "returned" is the opposite: the session was taken back from ``staff`` and put in
    the waiting queue (``return_to_queue``); it is not an assignment.
    """

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        QUEUE = "queue", _("From the waiting queue")
        MANUAL = "manual", _("Manual")
        RETURNED = "returned", _("Returned to the queue")

    session = models.ForeignKey(
        ChatSession,
        on_delete=models.CASCADE,
        related_name="assignment_events",
        verbose_name=_("session"),
    )
    staff = models.ForeignKey(
        Staff,
        on_delete=models.CASCADE,
        related_name="assignment_events",
        verbose_name=_("staff member"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=255)
    candidates = models.PositiveIntegerField(
        _("candidates"),
        null=True,
        blank=True,
        help_text=_("Staff on duty with room when it was decided."),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("assigned by"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["staff", "created_at"], name="event_staff_time")]

    def __str__(self) -> str:
        return f"{self.session} → {self.staff.name}: {self.reason}"
