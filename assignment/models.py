"""Sessions, messages, the auto-assignment toggle and the record of every assignment."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # Handing over unanswered sessions (applied by the queue worker, ``assign_waiting``).
    reassign_unanswered_after_minutes = models.PositiveSmallIntegerField(
        _("reassign a session nobody answered within N minutes"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text=_("Empty: off. 1 to 1440 minutes."),
    )
    return_unanswered_at_shift_end = models.BooleanField(
        _("when a staff member's working hours end, return their unanswered sessions to the queue"),
        default=False,
    )
    return_open_sessions_when_away = models.BooleanField(
        _("when a staff member is marked away, return their open sessions to the queue"),
        default=False,
    )

    class Meta:
        verbose_name = verbose_name_plural = _("assignment settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="assignment_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(reassign_unanswered_after_minutes__isnull=True)
                | models.Q(reassign_unanswered_after_minutes__range=(1, 1440)),
                name="assignment_settings_reassign_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        state = _("Automatic assignment on") if self.auto_assign else _("Automatic assignment off")
        return str(state)


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
    # The first staff message on the session (its receipt time) and who sent it.
    first_response_at = models.DateTimeField(
        _("first response at"), null=True, blank=True, editable=False
    )
    first_response_staff = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="first_responses",
        verbose_name=_("first response by"),
    )
    # The latest staff message: "unanswered" means none since ``assigned_at``.
    last_staff_message_at = models.DateTimeField(
        _("last staff message at"), null=True, blank=True, editable=False
    )

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
            # Assigned open sessions by assignment time: the unanswered ones are found here.
            models.Index(
                "assigned_at",
                condition=models.Q(status="open", assigned_staff__isnull=False),
                name="session_open_assigned",
            ),
        ]

    def __str__(self) -> str:
        who = self.customer_name or self.customer_id
        return f"#{self.pk} {who} ({self.channel})"

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.OPEN and self.assigned_staff_id is None

    @property
    def first_response_time(self) -> timedelta | None:
        """From the session's creation to its first staff message."""
        if self.first_response_at is None:
            return None
        return self.first_response_at - self.created_at


class Message(models.Model):
    """A customer's or a staff member's message. Keeps what is needed to answer a redelivery
    identically."""

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")

    message_id = models.CharField(_("message ID"), max_length=128, unique=True)
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("session")
    )
    author = models.CharField(
        _("author"), max_length=8, choices=Author.choices, default=Author.CUSTOMER
    )
    staff = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("staff member"),
        help_text=_("Who wrote it, for a staff message."),
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(author="customer", staff__isnull=True)
                | models.Q(author="staff", staff__isnull=False),
                name="message_staff_iff_staff_author",
            )
        ]

    def __str__(self) -> str:
        return self.message_id


class AssignmentEvent(models.Model):
    """One assignment of a session to a staff member, with the reason in words.

    Kind "returned" is the opposite: the session was taken back from ``staff`` and put in
    the waiting queue (``return_to_queue``); it is not an assignment. Kind "reassigned" is
    an assignment to ``staff`` of a session ``reassigned_from`` did not answer in time.
    """

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        QUEUE = "queue", _("From the waiting queue")
        MANUAL = "manual", _("Manual")
        RETURNED = "returned", _("Returned to the queue")
        REASSIGNED = "reassigned", _("Reassigned: not answered")

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
    reassigned_from = models.ForeignKey(
        Staff,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reassigned_away_events",
        verbose_name=_("reassigned from"),
        help_text=_("Who did not answer, for a reassignment."),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["staff", "created_at"], name="event_staff_time")]

    def __str__(self) -> str:
        # Imported here: the reasons' grammar reads the policy, which reads these models.
        from assignment.reasons import reason_in_language

        return f"{self.session} → {self.staff.name}: {reason_in_language(self.reason)}"
