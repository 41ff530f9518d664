"""Writes to working times and staff, with every validation the admin and import share.

Rules that also involve assignment (the auto-assignment toggle rule) are checked by
``assignment.config``, which wraps these functions.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils.translation import gettext as _

from staff import schedule
from staff.models import Staff, WorkingRange, WorkingTime


def _max_length(field: models.Field) -> int:
    """The ``max_length`` a text field declares (each one read here does)."""
    if field.max_length is None:
        raise TypeError(f"{field} declares no max_length.")
    return field.max_length


NAME_MAX_LENGTH = _max_length(WorkingTime._meta.get_field("name"))
STAFF_NAME_MAX_LENGTH = _max_length(Staff._meta.get_field("name"))
EMAIL_MAX_LENGTH = _max_length(Staff._meta.get_field("email"))
# PostgreSQL's integer column holds at most this; SQLite holds more, but a configuration
# exported from one store must import into the other.
MAX_OPEN_SESSIONS_LIMIT = 2_147_483_647
STAFF_EDITABLE_FIELDS = ["email", "name", "user", "working_time", "active", "max_open_sessions"]


def unstorable_text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot store ``value`` (a NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return _("must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("must be valid Unicode text (no lone surrogates).")
    return None


def _clean_name(name: object, max_length: int, missing: str, errors: dict[str, str]) -> str:
    """The trimmed name; a problem with it goes to ``errors["name"]``."""
    clean_name = name.strip() if isinstance(name, str) else ""
    if not clean_name:
        errors["name"] = missing
    elif len(clean_name) > max_length:
        errors["name"] = _("A name has at most %(count)d characters.") % {"count": max_length}
    elif problem := unstorable_text_problem(clean_name):
        errors["name"] = _("The name %(problem)s") % {"problem": problem}
    return clean_name


def working_time_validate(
    *, name: object, timezone: object, hours: object
) -> tuple[str, str, tuple[schedule.WeeklyRange, ...]]:
    """Clean the three parts of a working time; ValidationError names every bad field."""
    errors: dict[str, str] = {}
    clean_name = _clean_name(name, NAME_MAX_LENGTH, _("Give the working time a name."), errors)
    try:
        schedule.zone_for(timezone if isinstance(timezone, str) else repr(timezone))
    except schedule.ScheduleError as error:
        errors["timezone"] = str(error)
    ranges: tuple[schedule.WeeklyRange, ...] = ()
    try:
        ranges = schedule.parse_hours(hours)
    except schedule.ScheduleError as error:
        errors["hours"] = str(error)
    if errors:
        raise ValidationError(errors)
    return clean_name, str(timezone), ranges


@transaction.atomic
def working_time_save(
    *,
    name: object,
    timezone: object,
    hours: object,
    working_time: WorkingTime | None = None,
) -> WorkingTime:
    """Create or update a working time and its ranges (``working_time`` without a pk, as an
    admin form gives, is created)."""
    clean_name, clean_zone, ranges = working_time_validate(
        name=name, timezone=timezone, hours=hours
    )
    clash = WorkingTime.objects.filter(name=clean_name)
    if working_time is not None and working_time.pk:
        clash = clash.exclude(pk=working_time.pk)
    if clash.exists():
        raise ValidationError(
            {"name": _("A working time called %(name)r exists already.") % {"name": clean_name}}
        )
    if working_time is None:
        working_time = WorkingTime(name=clean_name, timezone=clean_zone)
    else:
        working_time.name, working_time.timezone = clean_name, clean_zone
    working_time.save()
    working_time.weekly_ranges.all().delete()
    WorkingRange.objects.bulk_create(
        WorkingRange(
            working_time=working_time,
            weekday=weekly_range.weekday,
            start_minute=weekly_range.start,
            end_minute=weekly_range.end,
        )
        for weekly_range in ranges
    )
    return working_time


def staff_validate(
    *, email: object, name: object, active: object, max_open_sessions: object
) -> tuple[str, str, bool, int | None]:
    errors: dict[str, str] = {}
    clean_email = email.strip().lower() if isinstance(email, str) else ""
    try:
        validate_email(clean_email)
    except ValidationError:
        errors["email"] = _("%(email)r is not an email address.") % {"email": email}
    else:
        if len(clean_email) > EMAIL_MAX_LENGTH:
            errors["email"] = _("An email address has at most %(count)d characters.") % {
                "count": EMAIL_MAX_LENGTH
            }
        elif problem := unstorable_text_problem(clean_email):
            errors["email"] = _("The email address %(problem)s") % {"problem": problem}
    clean_name = _clean_name(
        name, STAFF_NAME_MAX_LENGTH, _("Give the staff member a name."), errors
    )
    if not isinstance(active, bool):
        errors["active"] = "active is true or false."
    capacity_ok = max_open_sessions is None or (
        isinstance(max_open_sessions, int)
        and not isinstance(max_open_sessions, bool)
        and max_open_sessions >= 1
    )
    if not capacity_ok:
        errors["max_open_sessions"] = "max_open_sessions is empty (no limit) or a whole number ≥ 1."
    elif isinstance(max_open_sessions, int) and max_open_sessions > MAX_OPEN_SESSIONS_LIMIT:
        errors["max_open_sessions"] = f"max_open_sessions is at most {MAX_OPEN_SESSIONS_LIMIT}."
    if errors:
        raise ValidationError(errors)
    return clean_email, clean_name, bool(active), max_open_sessions  # type: ignore[return-value]


def staff_save(
    *,
    email: object,
    name: object,
    working_time: WorkingTime | None,
    active: object = True,
    max_open_sessions: object = None,
    staff: Staff | None = None,
) -> Staff:
    """Create or update a staff member after validating every field (``staff`` without a
    pk, as an admin form gives, is created)."""
    clean_email, clean_name, clean_active, capacity = staff_validate(
        email=email, name=name, active=active, max_open_sessions=max_open_sessions
    )
    clash = Staff.objects.filter(email__iexact=clean_email)
    if staff is not None and staff.pk:
        clash = clash.exclude(pk=staff.pk)
    if clash.exists():
        raise ValidationError({"email": f"A staff member with {clean_email} exists already."})
    if staff is None:
        staff = Staff()
    staff.email, staff.name = clean_email, clean_name
    staff.working_time, staff.active, staff.max_open_sessions = (
        working_time,
        clean_active,
        capacity,
    )
    if staff.pk is None:
        staff.save()
    else:
        # Only what this function edits: open_sessions and last_assigned_at belong to the
        # assignment policy, and a stale copy of them must never be written back.
        staff.save(update_fields=STAFF_EDITABLE_FIELDS)
    return staff
