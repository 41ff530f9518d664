"""People and their working times: the ground floor. Nothing here knows about assignment."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from staff import schedule


class WorkingTime(models.Model):
    """A named weekly shift pattern, read as wall-clock hours in its own time zone."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, help_text=_("IANA time zone, e.g. Asia/Taipei.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("working time")
        verbose_name_plural = _("working times")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(name=""), name="working_time_name_not_empty"
            ),
            models.CheckConstraint(
                condition=~models.Q(timezone=""), name="working_time_timezone_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def weekly_ranges_tuple(self) -> tuple[schedule.WeeklyRange, ...]:
        """Its ranges as schedule values (uses prefetched rows when there are any)."""
        return tuple(
            sorted(
                schedule.WeeklyRange(row.weekday, row.start_minute, row.end_minute)
                for row in self.weekly_ranges.all()
            )
        )

    def hours_config(self) -> dict[str, list]:
        return schedule.hours_to_config(self.weekly_ranges_tuple())

    def summary(self) -> str:
        return schedule.summarize_hours(self.weekly_ranges_tuple())

    @property
    def summary_text(self) -> str:
        """``summary()`` as an attribute, for lists and templates."""
        return self.summary()

    def date_exceptions(self) -> tuple[schedule.DateException, ...]:
        """Its dated exceptions as schedule values, by date (uses prefetched rows)."""
        return tuple(sorted(exception.as_schedule() for exception in self.exceptions.all()))

    def exceptions_config(self) -> dict[str, list]:
        return schedule.exceptions_to_config(self.date_exceptions())


class WorkingRange(models.Model):
    """One ``[start, end)`` range of a weekday; ``end < start`` runs past midnight.

    Overlaps between ranges are checked by the schedule maths before saving (a database
    cannot express a weekly circle); what one row alone must satisfy is guarded here.
    """

    working_time = models.ForeignKey(
        WorkingTime,
        on_delete=models.CASCADE,
        related_name="weekly_ranges",
        verbose_name=_("working time"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), help_text=_("0 = Monday ... 6 = Sunday")
    )
    start_minute = models.PositiveSmallIntegerField(_("start minute"))
    end_minute = models.PositiveSmallIntegerField(_("end minute"))

    class Meta:
        ordering = ["working_time", "weekday", "start_minute"]
        verbose_name = _("working range")
        verbose_name_plural = _("working ranges")
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="range_weekday_valid"),
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=schedule.MINUTES_PER_DAY),
                name="range_start_in_day",
            ),
            models.CheckConstraint(
                condition=models.Q(end_minute__lte=schedule.MINUTES_PER_DAY),
                name="range_end_in_day",
            ),
            models.CheckConstraint(
                condition=~models.Q(start_minute=models.F("end_minute")),
                name="range_not_empty",
            ),
            models.UniqueConstraint(
                fields=["working_time", "weekday", "start_minute"], name="range_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return schedule.describe_range(
            schedule.WeeklyRange(self.weekday, self.start_minute, self.end_minute)
        )


class WorkingTimeException(models.Model):
    """A calendar date (in the working time's zone) whose ranges replace the weekday's.

    No ``ranges`` rows: closed all day. Overlaps with the neighbouring days are checked by
    the schedule maths before saving, as for the weekly ranges.
    """

    working_time = models.ForeignKey(
        WorkingTime,
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("working time"),
    )
    date = models.DateField(_("date"))
    name = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("e.g. Christmas Day.")
    )

    class Meta:
        ordering = ["working_time", "date"]
        verbose_name = _("exception")
        verbose_name_plural = _("exceptions")
        constraints = [
            models.UniqueConstraint(fields=["working_time", "date"], name="exception_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {schedule.describe_exception_hours(self.as_schedule())}"

    def as_schedule(self) -> schedule.DateException:
        """As a schedule value (uses prefetched ranges when there are any)."""
        return schedule.DateException(
            self.date,
            tuple(sorted((row.start_minute, row.end_minute) for row in self.ranges.all())),
            self.name,
        )


class ExceptionRange(models.Model):
    """One ``[start, end)`` range of an exception's date; ``end < start`` runs past midnight."""

    exception = models.ForeignKey(
        WorkingTimeException,
        on_delete=models.CASCADE,
        related_name="ranges",
        verbose_name=_("exception"),
    )
    start_minute = models.PositiveSmallIntegerField(_("start minute"))
    end_minute = models.PositiveSmallIntegerField(_("end minute"))

    class Meta:
        ordering = ["exception", "start_minute"]
        verbose_name = _("exception range")
        verbose_name_plural = _("exception ranges")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=schedule.MINUTES_PER_DAY),
                name="exception_range_start_in_day",
            ),
            models.CheckConstraint(
                condition=models.Q(end_minute__lte=schedule.MINUTES_PER_DAY),
                name="exception_range_end_in_day",
            ),
            models.CheckConstraint(
                condition=~models.Q(start_minute=models.F("end_minute")),
                name="exception_range_not_empty",
            ),
            models.UniqueConstraint(
                fields=["exception", "start_minute"], name="exception_range_unique_start"
            ),
        ]

    def __str__(self) -> str:
        suffix = " (+1)" if self.end_minute < self.start_minute else ""
        return (
            f"{schedule.format_clock(self.start_minute)}-"
            f"{schedule.format_clock(self.end_minute)}{suffix}"
        )


class Staff(models.Model):
    """A staff member who can be given chat sessions."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_profile",
        help_text=_("The login of this staff member, to see their own sessions."),
    )
    working_time = models.ForeignKey(
        WorkingTime,
        verbose_name=_("working time"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Unticked means away (leave, sick): gets no new sessions."),
    )
    max_open_sessions = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Empty for no limit.")
    )
    # Kept in step with the open sessions assigned to this staff member, in the same
    # transaction as every change to them, so capacity is checked on this row alone.
    open_sessions = models.PositiveIntegerField(_("open sessions"), default=0, editable=False)
    last_assigned_at = models.DateTimeField(
        _("last assigned at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty: never assigned."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="staff_email_unique_ignoring_case"),
            models.CheckConstraint(
                condition=models.Q(max_open_sessions__isnull=True)
                | models.Q(max_open_sessions__gte=1),
                name="staff_capacity_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(open_sessions__gte=0), name="staff_open_sessions_not_negative"
            ),
        ]
        indexes = [
            # The policy's candidate scan: active staff of the working times on duty, in
            # assignment order (never assigned first, then oldest assignment, then id).
            # (A NULLS FIRST index would match the ORDER BY, but SQLite cannot build one, and
            # the candidates of the working times on duty are few enough to sort.)
            models.Index(
                fields=["working_time", "last_assigned_at", "id"],
                condition=models.Q(active=True),
                name="staff_candidates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def has_room(self) -> bool:
        return self.max_open_sessions is None or self.open_sessions < self.max_open_sessions
