"""The assignment configuration as a whole: the toggle rule, and import/export as JSON.

The toggle rule (automatic assignment may only be on while at least one staff member has a
working time) is checked here and only here: ``config_change()`` wraps every write that
could break it (the admin, the settings page, the import), holds the assignment lock so
two managers cannot break it together, and checks the rule before the transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext, gettext_lazy

from assignment.models import AssignmentSettings
from assignment.policy import auto_assign_enabled, lock_assignment_settings
from staff import services as staff_services
from staff.models import Staff, WorkingTime

TOGGLE_RULE_MESSAGE = gettext_lazy(
    "Automatic assignment can only be on while at least one staff member has a working "
    "time. Give a staff member a working time first."
)
TOP_LEVEL_KEYS = {"auto_assign", "working_times", "staff"}
# Optional top-level keys (left out: the setting keeps its value): the hand-overs.
HANDOVER_KEYS = {
    "reassign_unanswered_after_minutes",
    "return_unanswered_at_shift_end",
    "return_open_sessions_when_away",
}
WORKING_TIME_KEYS = {"name", "timezone", "hours", "exceptions"}
WORKING_TIME_REQUIRED_KEYS = {"name", "timezone", "hours"}  # no "exceptions": keep them
STAFF_KEYS = {"email", "name", "working_time", "active", "max_open_sessions"}
STAFF_REQUIRED_KEYS = {"email", "name"}


class ConfigError(ValueError):
    """A configuration that cannot be applied; the message names the entry and the rule."""


def any_staff_has_working_time() -> bool:
    return Staff.objects.filter(working_time__isnull=False).exists()


@contextmanager
def config_change() -> Iterator[AssignmentSettings]:
    """A transaction for configuration writes that ends by checking the toggle rule."""
    with transaction.atomic():
        settings_row = lock_assignment_settings()
        yield settings_row
        settings_row.refresh_from_db(fields=["auto_assign"])
        if settings_row.auto_assign and not any_staff_has_working_time():
            raise ValidationError(TOGGLE_RULE_MESSAGE)


def auto_assign_set(*, enabled: bool) -> AssignmentSettings:
    """Switch automatic assignment on or off; ValidationError if the rule forbids it."""
    with config_change() as settings_row:
        settings_row.auto_assign = enabled
        settings_row.save(update_fields=["auto_assign", "updated_at"])
    return settings_row


def handover_settings_set(
    *,
    reassign_unanswered_after_minutes: int | None,
    return_unanswered_at_shift_end: bool,
    return_open_sessions_when_away: bool,
) -> AssignmentSettings:
    """Store the hand-over settings (``assignment.handover``); ValidationError if the
    minutes are not 1 to 1440 (or None: off)."""
    minutes = reassign_unanswered_after_minutes
    if minutes is not None and not 1 <= minutes <= 1440:
        raise ValidationError("Reassign after 1 to 1440 minutes, or leave it empty for never.")
    with config_change() as settings_row:
        settings_row.reassign_unanswered_after_minutes = minutes
        settings_row.return_unanswered_at_shift_end = return_unanswered_at_shift_end
        settings_row.return_open_sessions_when_away = return_open_sessions_when_away
        settings_row.save(update_fields=[*HANDOVER_KEYS, "updated_at"])
    return settings_row


def staff_set_working_time(*, staff: Staff, working_time: WorkingTime | None) -> Staff:
    """Give ``staff`` a working time, or take it away (refused if it breaks the rule)."""
    with config_change():
        staff.working_time = working_time
        staff.save(update_fields=["working_time"])
    return staff


def staff_delete(*, staff: Staff) -> None:
    """Delete a staff member without sessions (ProtectedError otherwise)."""
    with config_change():
        staff.delete()


def working_time_delete(*, working_time: WorkingTime) -> None:
    """Delete a working time no staff member uses; ValidationError names who still does."""
    with config_change():
        users = list(working_time.staff.values_list("name", flat=True)[:5])
        if users:
            raise ValidationError(
                gettext("%(name)s is the working time of %(users)s; give them another one first.")
                % {"name": working_time.name, "users": ", ".join(users)}
            )
        try:
            working_time.delete()
        except ProtectedError as error:  # a staff member took it meanwhile
            raise ValidationError(
                gettext("%(name)s is still in use.") % {"name": working_time.name}
            ) from error


# --- Export and import ------------------------------------------------------------------------


def export_config() -> dict[str, Any]:
    settings_row = AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID).first()
    working_times = WorkingTime.objects.prefetch_related(
        "weekly_ranges", "exceptions__ranges"
    ).order_by("name")
    staff = Staff.objects.select_related("working_time").order_by("email")
    return {
        "auto_assign": bool(settings_row and settings_row.auto_assign),
        "working_times": [
            {
                "name": wt.name,
                "timezone": wt.timezone,
                "hours": wt.hours_config(),
                "exceptions": wt.exceptions_config(),
            }
            for wt in working_times
        ],
        "reassign_unanswered_after_minutes": (
            settings_row.reassign_unanswered_after_minutes if settings_row else None
        ),
        "return_unanswered_at_shift_end": bool(
            settings_row and settings_row.return_unanswered_at_shift_end
        ),
        "return_open_sessions_when_away": bool(
            settings_row and settings_row.return_open_sessions_when_away
        ),
        "staff": [
            {
                "email": member.email,
                "name": member.name,
                "working_time": member.working_time.name if member.working_time else None,
                "active": member.active,
                "max_open_sessions": member.max_open_sessions,
            }
            for member in staff
        ],
    }


def import_config(document: Any) -> dict[str, int]:
    """Apply a whole configuration, all or nothing. ConfigError names the bad entry.

    Upserts working times by name and staff by email; deletes nothing the file omits.
    Returns counts of what was created and updated.
    """
    _check_keys(document, TOP_LEVEL_KEYS | HANDOVER_KEYS, TOP_LEVEL_KEYS, where="the file")
    handover = _handover_settings(document)
    auto_assign = document["auto_assign"]
    if not isinstance(auto_assign, bool):
        raise ConfigError("auto_assign: must be true or false.")
    working_times = _list_of_objects(document["working_times"], "working_times")
    staff_entries = _list_of_objects(document["staff"], "staff")
    counts = {"working_times_created": 0, "working_times_updated": 0}
    counts |= {"staff_created": 0, "staff_updated": 0}
    try:
        with config_change() as settings_row:
            by_name = _import_working_times(working_times, counts)
            _import_staff(staff_entries, by_name, counts)
            settings_row.auto_assign = auto_assign
            for key, value in handover.items():
                setattr(settings_row, key, value)
            settings_row.save(update_fields=["auto_assign", "updated_at", *handover])
    except ValidationError as error:
        raise ConfigError(f"auto_assign: {' '.join(error.messages)}") from None
    return counts


def _handover_settings(document: dict) -> dict[str, Any]:
    """The hand-over keys the file gives, checked; ConfigError names a bad one."""
    given = {key: document[key] for key in sorted(HANDOVER_KEYS) if key in document}
    minutes = given.get("reassign_unanswered_after_minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440
    ):
        raise ConfigError(
            "reassign_unanswered_after_minutes: must be null (off) or a whole number of "
            "minutes from 1 to 1440."
        )
    for key in ("return_unanswered_at_shift_end", "return_open_sessions_when_away"):
        if key in given and not isinstance(given[key], bool):
            raise ConfigError(f"{key}: must be true or false.")
    return given


def _import_working_times(entries: list[dict], counts: dict[str, int]) -> dict[str, WorkingTime]:
    by_name = {wt.name: wt for wt in WorkingTime.objects.all()}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"working_times[{index}]"
        _check_keys(entry, WORKING_TIME_KEYS, WORKING_TIME_REQUIRED_KEYS, where=where)
        name = entry["name"]
        if isinstance(name, str):
            where = f"{where} ({name!r})"
            if name.strip() in seen:
                raise ConfigError(f"{where}: the name appears twice in the file.")
            seen.add(name.strip())
        existing = by_name.get(name.strip()) if isinstance(name, str) else None
        # Without the key, a working time keeps its exceptions (None); with it, they are
        # replaced ({} removes them all).
        exceptions = entry.get("exceptions")
        if "exceptions" in entry and not isinstance(exceptions, dict):
            raise ConfigError(f"{where}: exceptions: must be an object of YYYY-MM-DD dates.")
        try:
            saved = staff_services.working_time_save(
                name=name,
                timezone=entry["timezone"],
                hours=entry["hours"],
                working_time=existing,
                exceptions=exceptions,
            )
        except ValidationError as error:
            raise ConfigError(f"{where}: {_describe(error)}") from None
        by_name[saved.name] = saved
        counts["working_times_updated" if existing else "working_times_created"] += 1
    return by_name


def _import_staff(
    entries: list[dict], by_name: dict[str, WorkingTime], counts: dict[str, int]
) -> None:
    existing = {member.email.lower(): member for member in Staff.objects.all()}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"staff[{index}]"
        _check_keys(entry, STAFF_KEYS, STAFF_REQUIRED_KEYS, where=where)
        email = entry["email"]
        key = email.strip().lower() if isinstance(email, str) else None
        if key:
            where = f"{where} ({email!r})"
            if key in seen:
                raise ConfigError(f"{where}: the email appears twice in the file.")
            seen.add(key)
        member = existing.get(key) if key else None
        # Keys a file leaves out keep what an existing staff member has (or the defaults).
        working_time = member.working_time if member else None
        if "working_time" in entry:
            working_time_name = entry["working_time"]
            if working_time_name is not None and (
                not isinstance(working_time_name, str) or working_time_name not in by_name
            ):
                raise ConfigError(f"{where}: working_time {working_time_name!r} does not exist.")
            working_time = by_name[working_time_name] if working_time_name is not None else None
        try:
            staff_services.staff_save(
                email=email,
                name=entry["name"],
                working_time=working_time,
                active=entry.get("active", member.active if member else True),
                max_open_sessions=entry.get(
                    "max_open_sessions", member.max_open_sessions if member else None
                ),
                staff=member,
            )
        except ValidationError as error:
            raise ConfigError(f"{where}: {_describe(error)}") from None
        counts["staff_updated" if member else "staff_created"] += 1


def _check_keys(entry: Any, allowed: set[str], required: set[str], *, where: str) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a JSON object.")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {', '.join(map(repr, unknown))}.")
    missing = sorted(required - set(entry))
    if missing:
        raise ConfigError(f"{where}: missing key {', '.join(map(repr, missing))}.")


def _list_of_objects(value: Any, where: str) -> list[dict]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list.")
    return value


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def load_document(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"The file is not valid JSON: {error}.") from None
    except RecursionError:  # "[[[[..." thousands deep: Python's parser gives up
        raise ConfigError("The file is not valid JSON: it is nested too deeply.") from None


def staff_save_checked(**fields: Any) -> Staff:
    """``staff.services.staff_save`` under the toggle rule (ValidationError if broken)."""
    with config_change():
        return staff_services.staff_save(**fields)


def toggle_rule_problem(*, staff: Staff | None, new_working_time: WorkingTime | None) -> str | None:
    """What saving ``staff`` with ``new_working_time`` would break, for forms to show early."""
    if new_working_time is not None or not auto_assign_enabled():
        return None
    others = Staff.objects.filter(working_time__isnull=False)
    if staff is not None and staff.pk:
        others = others.exclude(pk=staff.pk)
    return None if others.exists() else str(TOGGLE_RULE_MESSAGE)
