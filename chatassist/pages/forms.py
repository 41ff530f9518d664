"""Forms of the settings page.

They collect what the manager typed, redisplay it untouched when something is wrong, and put
each error next to the input it is about. The rules themselves are checked by
``staff.services`` and ``assignment.config``, the same code the import command runs; the
only thing decided here is how loosely a typed time may be written ("9" for "09:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict
from django.http import QueryDict

from staff import schedule
from staff import services as staff_services
from staff.models import WorkingTime

DAY_LABELS = dict(
    zip(
        schedule.DAY_KEYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
# A new working time starts as office hours: the commonest answer, and easy to change.
DEFAULT_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# ASCII digits only: \d would also take other scripts' digits, which are no clock times.
_LOOSE_CLOCK = re.compile(r"([0-9]{1,2})(?:[:.hH]?([0-5][0-9]))?")


def tidy_clock(text: str, *, is_end: bool) -> str:
    """ "9", "9:30", "0930", "9.30" become "09:00"/"09:30"; an end of 00:00 is midnight,
    which the configuration writes "24:00". Anything else is kept as typed, for the schedule
    maths to reject with its own message."""
    text = text.strip()
    match = _LOOSE_CLOCK.fullmatch(text)
    if not match or int(match[1]) > 24:
        return text
    tidy = f"{int(match[1]):02d}:{match[2] or '00'}"
    return "24:00" if is_end and tidy == "00:00" else tidy


@dataclass
class RangeRow:
    """One typed range of the weekly hours editor, with the errors found in it."""

    start: str = ""
    end: str = ""
    start_error: str = ""
    end_error: str = ""
    error: str = ""  # about the range as a whole: empty, overlapping

    @property
    def is_blank(self) -> bool:
        return not self.start and not self.end

    @property
    def has_errors(self) -> bool:
        return bool(self.start_error or self.end_error or self.error)

    def minutes(self) -> tuple[int, int] | None:
        try:
            return (
                schedule.parse_clock(self.start, is_end=False),
                schedule.parse_clock(self.end, is_end=True),
            )
        except schedule.ScheduleError:
            return None

    @property
    def past_midnight(self) -> bool:
        minutes = self.minutes()
        return minutes is not None and minutes[1] < minutes[0]


@dataclass
class DayRow:
    key: str
    ranges: list[RangeRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return DAY_LABELS[self.key]

    @property
    def weekday(self) -> int:
        return schedule.DAY_KEYS.index(self.key)


class WorkingTimeForm(forms.Form):
    """Name, time zone and weekly hours of a working time, as the pop-up posts them.

    The hours arrive as repeated ``<day>-start`` / ``<day>-end`` inputs, one pair per range;
    a pair left blank is ignored. Without JavaScript, the "add a range" and "remove" buttons
    post the form with ``_add=<day>`` or ``_remove=<day>:<index>``, which only edits the rows.
    """

    name = forms.CharField(required=False, strip=False)
    timezone = forms.CharField(required=False)
    name_max_length = staff_services.NAME_MAX_LENGTH

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        working_time: WorkingTime | None = None,
        default_zone: str = "UTC",
    ) -> None:
        initial = {"name": "", "timezone": default_zone}
        hours = DEFAULT_HOURS
        if working_time is not None:
            initial = {"name": working_time.name, "timezone": working_time.timezone}
            hours = working_time.hours_config()
        super().__init__(data, initial=initial)
        self.working_time = working_time
        self.hours_error = ""
        self.hours: dict[str, list[list[str]]] = {}
        self.days = self._days_from_data(data) if data is not None else self._days_from(hours)

    # --- The rows of the hours editor -------------------------------------------------------

    @staticmethod
    def _days_from(hours: dict[str, list]) -> list[DayRow]:
        return [
            DayRow(key, [RangeRow(start, end) for start, end in hours.get(key, [])])
            for key in schedule.DAY_KEYS
        ]

    @staticmethod
    def _days_from_data(data: QueryDict) -> list[DayRow]:
        days = []
        for key in schedule.DAY_KEYS:
            starts, ends = data.getlist(f"{key}-start"), data.getlist(f"{key}-end")
            pairs = zip(starts, ends + [""] * (len(starts) - len(ends)), strict=False)
            days.append(DayRow(key, [RangeRow(start.strip(), end.strip()) for start, end in pairs]))
        return days

    def apply_editor_action(self) -> bool:
        """Add or remove a range as a no-JavaScript button asked; False if none asked."""
        if not self.is_bound:
            return False
        by_key = {day.key: day for day in self.days}
        day_key, _, index = (self.data.get("_remove") or "").partition(":")
        if (add := self.data.get("_add")) in by_key:
            by_key[add].ranges.append(RangeRow())
        elif day_key in by_key and index.isdigit() and int(index) < len(by_key[day_key].ranges):
            del by_key[day_key].ranges[int(index)]
        else:
            return False
        # Still being edited, not submitted: redisplay without judging it yet.
        self._errors = ErrorDict()
        return True

    # --- Validation ---------------------------------------------------------------------------

    @property
    def zone_value(self) -> str:
        return self["timezone"].value() or ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.hours = self._collect_hours()
        try:
            staff_services.working_time_validate(
                name=cleaned.get("name", ""), timezone=cleaned.get("timezone", ""), hours=self.hours
            )
        except ValidationError as error:
            self.add_service_errors(error)
        return cleaned

    def is_valid(self) -> bool:
        # Errors of the hours live on their rows (next to their inputs), not in self.errors.
        return super().is_valid() and not (self.range_errors or self.hours_error)

    def _collect_hours(self) -> dict[str, list[list[str]]]:
        hours: dict[str, list[list[str]]] = {}
        for day in self.days:
            for row in day.ranges:
                if row.is_blank:
                    continue
                row.start = tidy_clock(row.start, is_end=False)
                row.end = tidy_clock(row.end, is_end=True)
                row.start_error = _clock_problem(row.start, is_end=False)
                row.end_error = _clock_problem(row.end, is_end=True)
                hours.setdefault(day.key, []).append([row.start, row.end])
        return hours

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the errors of ``staff.services`` next to the inputs they are about."""
        for field_name, problems in error.message_dict.items():
            if field_name == "hours":
                if not self.range_errors:  # a bad time typed explains the rest
                    self._place_hours_error(" ".join(problems))
            elif field_name in self.fields:
                self.add_error(field_name, problems)
            else:
                self.add_error(None, problems)

    def _place_hours_error(self, message: str) -> None:
        """The schedule maths names the range at fault ("mon 22:00-02:00 (+1) overlaps ..."),
        so the message goes to the typed row it describes (the later one when two look
        alike); a message about the week as a whole goes above the editor."""
        culprit = None
        for day in self.days:
            for row in day.ranges:
                minutes = None if row.is_blank else row.minutes()
                if minutes is None:
                    continue
                described = schedule.describe_range(schedule.WeeklyRange(day.weekday, *minutes))
                if message.startswith(described + " ") or message.startswith(described + ":"):
                    culprit = row
        if culprit is not None:
            culprit.error = message
        else:
            self.hours_error = message

    @property
    def range_errors(self) -> bool:
        return any(row.has_errors for day in self.days for row in day.ranges)

    @property
    def has_errors(self) -> bool:
        return self.is_bound and not self.is_valid()

    def error_summary(self) -> dict[str, list[str]]:
        """Every message, keyed by input, for a script that wants them as data."""
        summary: dict[str, list[str]] = {
            name: [str(problem) for problem in problems]
            for name, problems in self.errors.items()
            if name != NON_FIELD_ERRORS
        }
        if self.hours_error:
            summary["hours"] = [self.hours_error]
        for day in self.days:
            for index, row in enumerate(day.ranges):
                for part, problem in (
                    ("start", row.start_error),
                    ("end", row.end_error),
                    ("range", row.error),
                ):
                    if problem:
                        summary.setdefault(f"{day.key}-{index}-{part}", []).append(problem)
        return summary


def _clock_problem(text: str, *, is_end: bool) -> str:
    if not text:
        return "Enter the end time too." if is_end else "Enter the start time too."
    try:
        schedule.parse_clock(text, is_end=is_end)
    except schedule.ScheduleError as error:
        return str(error)
    return ""


class StaffWorkingTimeForm(forms.Form):
    """The choice in one staff row: a working time, or none (empty) to take it away."""

    working_time = forms.ModelChoiceField(
        queryset=WorkingTime.objects.all(),
        required=False,
        error_messages={
            "invalid_choice": "That working time no longer exists; pick another one.",
        },
    )


class AutoAssignToggleForm(forms.Form):
    enabled = forms.ChoiceField(choices=[("on", "On"), ("off", "Off")])

    @property
    def turn_on(self) -> bool:
        return self.cleaned_data["enabled"] == "on"


# --- Time zones -------------------------------------------------------------------------------


def zone_options(now: datetime) -> list[tuple[str, str]]:
    """Every IANA zone the schedule maths knows, with its offset now: "Asia/Taipei (UTC+08:00)".

    Offsets change with daylight saving, so the list is rebuilt each hour.
    """
    return _zone_options(now.replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=2)
def _zone_options(hour: datetime) -> list[tuple[str, str]]:
    return [(name, f"{name} ({_utc_offset(name, hour)})") for name in schedule.known_zone_names()]


def _utc_offset(name: str, at: datetime) -> str:
    offset = at.astimezone(ZoneInfo(name)).strftime("%z")  # "+0800", "-0330"
    return f"UTC{offset[:3]}:{offset[3:]}"
