"""Writes to working times and staff, with every validation the admin and import share.

Rules that also involve assignment (the auto-assignment toggle rule) are checked by
``assignment.config``, which wraps these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils.translation import gettext as _

from staff import holidays as public_holidays
from staff import schedule
from staff.models import ExceptionRange, Staff, WorkingRange, WorkingTime, WorkingTimeException


def _max_length(field: models.Field) -> int:
    """The ``max_length`` a text field declares (each one read here does)."""
    if field.max_length is None:
        raise TypeError(f"{field} declares no max_length.")
    return field.max_length


NAME_MAX_LENGTH = _max_length(WorkingTime._meta.get_field("name"))
EXCEPTION_NAME_MAX_LENGTH = _max_length(WorkingTimeException._meta.get_field("name"))
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
    exceptions: object = None,
    exception_names: dict[str, str] | None = None,
) -> WorkingTime:
    """Create or update a working time and its ranges (``working_time`` without a pk, as an
    admin form gives, is created).

    ``exceptions`` in the configuration form (``{"2026-12-31": [["09:00", "15:00"]]}``)
    replaces its dated exceptions (an existing date keeps its name unless
    ``exception_names``, by ``YYYY-MM-DD``, gives one); None keeps them, checked against the
    new weekly hours.
    """
    clean_name, clean_zone, ranges = working_time_validate(
        name=name, timezone=timezone, hours=hours
    )
    kept = working_time.date_exceptions() if working_time is not None and working_time.pk else ()
    if exceptions is None:
        new_exceptions = exceptions_validate(weekly=ranges, exceptions=kept)
    else:
        new_exceptions = exceptions_from_config(exceptions, weekly=ranges, names=kept)
        if exception_names is not None:
            new_exceptions = tuple(
                replace(item, name=_clean_exception_name(exception_names[key]))
                if (key := item.day.isoformat()) in exception_names
                else item
                for item in new_exceptions
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
    if exceptions is not None:
        _replace_exceptions(working_time, new_exceptions)
    return working_time


# --- Dated exceptions ---------------------------------------------------------------------------


def exceptions_validate(
    *,
    weekly: tuple[schedule.WeeklyRange, ...],
    exceptions: tuple[schedule.DateException, ...] | list[schedule.DateException],
) -> tuple[schedule.DateException, ...]:
    """The exceptions checked against each other and ``weekly``; ValidationError
    ``{"exceptions": ...}`` naming the date at fault."""
    try:
        return schedule.validate_exceptions(weekly, exceptions)
    except schedule.ScheduleError as error:
        raise ValidationError({"exceptions": str(error)}) from None


def exceptions_from_config(
    value: object,
    *,
    weekly: tuple[schedule.WeeklyRange, ...],
    names: tuple[schedule.DateException, ...] = (),
) -> tuple[schedule.DateException, ...]:
    """Exceptions in the configuration form, validated; a date in ``names`` keeps its name."""
    try:
        parsed = schedule.parse_exceptions(value)
    except schedule.ScheduleError as error:
        raise ValidationError({"exceptions": str(error)}) from None
    name_of = {exception.day: exception.name for exception in names}
    return exceptions_validate(
        weekly=weekly,
        exceptions=[
            schedule.DateException(day, day_ranges, name_of.get(day, ""))
            for day, day_ranges in parsed.items()
        ],
    )


def _replace_exceptions(
    working_time: WorkingTime, exceptions: tuple[schedule.DateException, ...]
) -> None:
    working_time.exceptions.all().delete()
    _create_exceptions(working_time, exceptions)


def _create_exceptions(
    working_time: WorkingTime, exceptions: tuple[schedule.DateException, ...] | list
) -> None:
    rows = WorkingTimeException.objects.bulk_create(
        WorkingTimeException(working_time=working_time, date=item.day, name=item.name)
        for item in exceptions
    )
    ExceptionRange.objects.bulk_create(
        ExceptionRange(exception=row, start_minute=start, end_minute=end)
        for row, item in zip(rows, exceptions, strict=True)
        for start, end in item.ranges
    )


def _clean_exception_name(name: object) -> str:
    clean = name.strip() if isinstance(name, str) else ""
    if len(clean) > EXCEPTION_NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "exception_name": _("A name has at most %(count)d characters.")
                % {"count": EXCEPTION_NAME_MAX_LENGTH}
            }
        )
    if problem := unstorable_text_problem(clean):
        raise ValidationError({"exception_name": _("The name %(problem)s") % {"problem": problem}})
    return clean


@transaction.atomic
def exception_set(
    *, working_time: WorkingTime, day: object, hours: object, name: object = ""
) -> schedule.DateException:
    """Make ``day`` (``YYYY-MM-DD`` or a date) an exception with ``hours`` (a list of
    ``[start, end]``; ``[]`` closed), replacing one on that date. ValidationError names
    ``exception_date``, ``exception_name`` or ``exceptions`` (the hours, overlaps)."""
    locked = WorkingTime.objects.select_for_update().get(pk=working_time.pk)
    if isinstance(day, str):
        try:
            day = schedule.parse_date(day)
        except schedule.ScheduleError as error:
            raise ValidationError({"exception_date": str(error)}) from None
    if not isinstance(day, date):
        raise ValidationError({"exception_date": _("Enter a date of the form YYYY-MM-DD.")})
    clean_name = _clean_exception_name(name)
    try:
        day_ranges = schedule.parse_exception_ranges(day, hours)
    except schedule.ScheduleError as error:
        raise ValidationError({"exceptions": str(error)}) from None
    new = schedule.DateException(day, day_ranges, clean_name)
    others = [item for item in locked.date_exceptions() if item.day != day]
    exceptions_validate(weekly=locked.weekly_ranges_tuple(), exceptions=[*others, new])
    locked.exceptions.filter(date=day).delete()
    _create_exceptions(locked, [new])
    return new


def exception_remove(*, working_time: WorkingTime, day: date) -> bool:
    """Remove the exception on ``day``; False if there was none."""
    deleted, _ = working_time.exceptions.filter(date=day).delete()
    return bool(deleted)


@dataclass(frozen=True)
class ClosedDaysAdded:
    added: tuple[schedule.DateException, ...]
    skipped: tuple[schedule.DateException, ...]  # the dates that had an exception already


@transaction.atomic
def closed_days_add(
    *, working_time: WorkingTime, days: list[tuple[date, str]], dry_run: bool = False
) -> ClosedDaysAdded:
    """Add each ``(date, name)`` as a closed day; a date that already has an exception is
    left as it is and reported as skipped (so adding the same holidays twice is harmless).
    ``dry_run`` says what would be added and writes nothing."""
    locked = WorkingTime.objects.select_for_update().get(pk=working_time.pk)
    existing = {item.day: item for item in locked.date_exceptions()}
    new = []
    for day, name in sorted(dict(days).items()):
        if day not in existing:
            new.append(schedule.DateException(day, (), name[:EXCEPTION_NAME_MAX_LENGTH]))
    exceptions_validate(weekly=locked.weekly_ranges_tuple(), exceptions=[*existing.values(), *new])
    if not dry_run:
        _create_exceptions(locked, new)
    skipped = tuple(existing[day] for day, _ in sorted(dict(days).items()) if day in existing)
    return ClosedDaysAdded(added=tuple(new), skipped=skipped)


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


def public_holidays_add(
    *,
    working_time: WorkingTime,
    country: str,
    year: int,
    subdiv: str | None = None,
    language: str | None = None,
    dry_run: bool = False,
) -> ClosedDaysAdded:
    """Add a country's public holidays of ``year`` as closed days (``closed_days_add``).

    ``holidays.HolidayLookupError`` for an unknown country, subdivision or year.
    """
    found = public_holidays.public_holidays(
        country=country, year=year, subdiv=subdiv, language=language
    )
    return closed_days_add(
        working_time=working_time,
        days=[(holiday.day, holiday.name) for holiday in found],
        dry_run=dry_run,
    )
