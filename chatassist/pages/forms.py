"""Forms of the settings page.

They collect what the manager typed, redisplay it untouched when something is wrong, and put
each error next to the input it is about. The rules themselves are checked by
``staff.services`` and ``assignment.config``, the same code the import command runs; the
only thing decided here is how loosely a typed time may be written ("9" for "09:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils import timezone as django_timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from chatassist.pages import time_zones
from staff import holidays, schedule
from staff import services as staff_services
from staff.models import WorkingTime

# Django's own catalogues translate the weekday names (the admin's calendar uses them too).
DAY_LABELS = dict(
    zip(
        schedule.DAY_KEYS,
        (
            gettext_lazy("Monday"),
            gettext_lazy("Tuesday"),
            gettext_lazy("Wednesday"),
            gettext_lazy("Thursday"),
            gettext_lazy("Friday"),
            gettext_lazy("Saturday"),
            gettext_lazy("Sunday"),
        ),
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
        return str(DAY_LABELS[self.key])

    @property
    def weekday(self) -> int:
        return schedule.DAY_KEYS.index(self.key)


@dataclass
class ExceptionRow:
    """One dated exception of the pop-up: its date (fixed once added), name and ranges
    (none: closed all day), with the errors found in it."""

    day: str  # YYYY-MM-DD
    name: str = ""
    ranges: list[RangeRow] = field(default_factory=list)
    error: str = ""
    upcoming: bool = True  # past ones are carried along hidden, so saving keeps them

    @property
    def key(self) -> str:
        return f"exc-{self.day}"

    @property
    def label(self) -> str:
        try:
            day = date.fromisoformat(self.day)
        except ValueError:
            return self.day
        return date_format(day, "DATE_FORMAT")

    @property
    def closed(self) -> bool:
        return not any(not row.is_blank for row in self.ranges)

    @property
    def has_errors(self) -> bool:
        return bool(self.error) or any(row.has_errors for row in self.ranges)


@dataclass
class NewException:
    """The "Add a date" inputs of the Exceptions part."""

    day: str = ""
    name: str = ""
    kind: str = "closed"  # or "hours"
    start: str = ""
    end: str = ""
    day_error: str = ""
    error: str = ""


@dataclass
class HolidayChoice:
    day: date
    name: str
    taken: bool  # the date already has an exception

    @property
    def value(self) -> str:
        return self.day.isoformat()


@dataclass
class HolidayPicker:
    """ "Add public holidays": a country (and subdivision), a year, the list to choose from."""

    country: str = ""
    subdiv: str = ""
    year: str = ""
    error: str = ""
    shown: list[HolidayChoice] = field(default_factory=list)

    @property
    def countries(self) -> tuple[tuple[str, str], ...]:
        return holidays.countries()

    @property
    def subdivisions(self) -> tuple[tuple[str, str], ...]:
        if not self.country:
            return ()
        try:
            return holidays.subdivisions(self.country)
        except holidays.HolidayLookupError:
            return ()


class WorkingTimeForm(forms.Form):
    """Name, time zone and weekly hours of a working time, as the pop-up posts them.

    The hours arrive as repeated ``<day>-start`` / ``<day>-end`` inputs, one pair per range;
    a pair left blank is ignored. Without JavaScript, the "add a range" and "remove" buttons
    post the form with ``_add=<day>`` or ``_remove=<day>:<index>``, which only edits the rows.

    Dated exceptions travel the same way: ``exc-date`` (one per exception) with its
    ``exc-<date>-name`` and ranges ``exc-<date>-start`` / ``-end``; the "Add a date" inputs
    (``new-exc-*``) and ``_add_exception``, ``_remove_exception=<date>``,
    ``_add_exc_range=<date>``, ``_remove_exc_range=<date>:<index>``; public holidays are
    listed with ``_show_holidays`` and the ticked ``holiday`` dates added with
    ``_add_holidays``. All of it is saved with the rest by Save.
    """

    name = forms.CharField(required=False, strip=False)
    # Required and without a default: Save stores only a zone the manager chose in the list
    # (a search that hid every zone leaves the empty choice selected, and this refuses it).
    timezone = forms.CharField(
        required=True,
        error_messages={"required": gettext_lazy("Choose a time zone from the list.")},
    )
    name_max_length = staff_services.NAME_MAX_LENGTH

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        working_time: WorkingTime | None = None,
        now: datetime | None = None,
        today: date | None = None,
    ) -> None:
        initial = {"name": "", "timezone": ""}
        hours = DEFAULT_HOURS
        self.now = now or django_timezone.now()
        if working_time is not None:
            initial = {"name": working_time.name, "timezone": working_time.timezone}
            hours = working_time.hours_config()
        super().__init__(data, initial=initial)
        self.working_time = working_time
        self.hours_error = ""
        self.hours: dict[str, list[list[str]]] = {}
        self.days = self._days_from_data(data) if data is not None else self._days_from(hours)
        self.today = today or django_timezone.localdate()
        self.exceptions_error = ""
        self.exceptions: dict[str, list[list[str]]] = {}
        self.exception_rows = (
            self._exceptions_from_data(data)
            if data is not None
            else self._exceptions_from(working_time)
        )
        self.new_exception = NewException(
            **(
                {
                    "day": data.get("new-exc-date", "").strip(),
                    "name": data.get("new-exc-name", ""),
                    "kind": "hours" if data.get("new-exc-kind") == "hours" else "closed",
                    "start": data.get("new-exc-start", "").strip(),
                    "end": data.get("new-exc-end", "").strip(),
                }
                if data is not None
                else {}
            )
        )
        self.holiday_picker = HolidayPicker(
            country=(data.get("holiday-country", "") if data is not None else "").strip().upper(),
            subdiv=(data.get("holiday-subdiv", "") if data is not None else "").strip(),
            year=(data.get("holiday-year", "") if data is not None else "").strip()
            or str(self.today.year),
        )

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
        elif not self._apply_exception_action():
            return False
        # Still being edited, not submitted: redisplay without judging it yet.
        self._errors = ErrorDict()
        return True

    # --- The Exceptions part -------------------------------------------------------------------

    def _exceptions_from(self, working_time: WorkingTime | None) -> list[ExceptionRow]:
        if working_time is None or working_time.pk is None:
            return []
        return [
            ExceptionRow(
                exception.day.isoformat(),
                exception.name,
                [
                    RangeRow(schedule.format_clock(start), schedule.format_clock(end))
                    for start, end in exception.ranges
                ],
                upcoming=exception.day >= self.today,
            )
            for exception in working_time.date_exceptions()
        ]

    def _exceptions_from_data(self, data: QueryDict) -> list[ExceptionRow]:
        rows = []
        for day in dict.fromkeys(text.strip() for text in data.getlist("exc-date")):
            if not day:
                continue
            starts, ends = data.getlist(f"exc-{day}-start"), data.getlist(f"exc-{day}-end")
            pairs = zip(starts, ends + [""] * (len(starts) - len(ends)), strict=False)
            rows.append(
                ExceptionRow(
                    day,
                    data.get(f"exc-{day}-name", ""),
                    [RangeRow(start.strip(), end.strip()) for start, end in pairs],
                    upcoming=not _is_before(day, self.today),
                )
            )
        return rows

    def _apply_exception_action(self) -> bool:
        """The Exceptions part's buttons; False if none was pressed."""
        by_day = {row.day: row for row in self.exception_rows}
        exc_day, _, index = (self.data.get("_remove_exc_range") or "").partition(":")
        if self.data.get("_add_exception") is not None:
            self._add_new_exception()
        elif (remove := self.data.get("_remove_exception")) in by_day:
            self.exception_rows.remove(by_day[remove])
        elif (add := self.data.get("_add_exc_range")) in by_day:
            by_day[add].ranges.append(RangeRow())
        elif exc_day in by_day and index.isdigit() and int(index) < len(by_day[exc_day].ranges):
            del by_day[exc_day].ranges[int(index)]
        elif self.data.get("_show_holidays") is not None:
            self._show_holidays()
        elif self.data.get("_add_holidays") is not None:
            self._add_chosen_holidays()
        else:
            return False
        return True

    def _add_new_exception(self) -> None:
        new = self.new_exception
        try:
            day = schedule.parse_date(new.day)
        except schedule.ScheduleError:
            new.day_error = _("Enter a date as YYYY-MM-DD.") if new.day else _("Enter the date.")
            return
        if any(row.day == day.isoformat() for row in self.exception_rows):
            new.day_error = _("%(date)s is already an exception: change it in the list.") % {
                "date": day.isoformat()
            }
            return
        if len(new.name.strip()) > staff_services.EXCEPTION_NAME_MAX_LENGTH:
            new.error = _("A name has at most %(count)d characters.") % {
                "count": staff_services.EXCEPTION_NAME_MAX_LENGTH
            }
            return
        ranges = [RangeRow(new.start, new.end)] if new.kind == "hours" else []
        if new.kind == "hours" and not ranges[0].is_blank:
            ranges[0].start = tidy_clock(new.start, is_end=False)
            ranges[0].end = tidy_clock(new.end, is_end=True)
        elif new.kind == "hours":
            ranges = [RangeRow()]
        self.exception_rows.append(ExceptionRow(day.isoformat(), new.name.strip(), ranges))
        self.exception_rows.sort(key=lambda row: row.day)
        self.new_exception = NewException()

    def _holidays_found(self) -> list[holidays.PublicHoliday] | None:
        picker = self.holiday_picker
        if not picker.country:
            picker.error = _("Choose a country.")
            return None
        if not picker.year.isdigit():
            picker.error = _("Enter a year, e.g. 2027.")
            return None
        try:
            language = holidays.holiday_language(picker.country, get_language())
            return holidays.public_holidays(
                country=picker.country,
                year=int(picker.year),
                subdiv=picker.subdiv or None,
                language=language,
            )
        except holidays.HolidayLookupError as error:
            picker.error = str(error)
            return None

    def _show_holidays(self) -> None:
        found = self._holidays_found()
        if found is None:
            return
        taken = {row.day for row in self.exception_rows}
        self.holiday_picker.shown = [
            HolidayChoice(item.day, item.name, item.day.isoformat() in taken) for item in found
        ]
        if not found:
            self.holiday_picker.error = _("No public holidays found for that year.")

    def _add_chosen_holidays(self) -> None:
        found = self._holidays_found()
        if found is None:
            return
        chosen = set(self.data.getlist("holiday")) if isinstance(self.data, QueryDict) else set()
        taken = {row.day for row in self.exception_rows}
        for item in found:
            if item.day.isoformat() in chosen and item.day.isoformat() not in taken:
                name = item.name[: staff_services.EXCEPTION_NAME_MAX_LENGTH]
                self.exception_rows.append(ExceptionRow(item.day.isoformat(), name))
        if not chosen:
            self._show_holidays()
            self.holiday_picker.error = _("Tick the holidays to add as closed days.")
        self.exception_rows.sort(key=lambda row: row.day)

    @property
    def upcoming_exception_rows(self) -> list[ExceptionRow]:
        return [row for row in self.exception_rows if row.upcoming or row.has_errors]

    @property
    def past_exception_rows(self) -> list[ExceptionRow]:
        return [row for row in self.exception_rows if not (row.upcoming or row.has_errors)]

    def _collect_exceptions(self) -> dict[str, list[list[str]]]:
        collected: dict[str, list[list[str]]] = {}
        for row in self.exception_rows:
            collected[row.day] = []
            for range_row in row.ranges:
                if range_row.is_blank:
                    continue
                range_row.start = tidy_clock(range_row.start, is_end=False)
                range_row.end = tidy_clock(range_row.end, is_end=True)
                range_row.start_error = _clock_problem(range_row.start, is_end=False)
                range_row.end_error = _clock_problem(range_row.end, is_end=True)
                collected[row.day].append([range_row.start, range_row.end])
        return collected

    @property
    def exception_names(self) -> dict[str, str]:
        return {row.day: row.name.strip() for row in self.exception_rows}

    def _place_exceptions_error(self, message: str) -> None:
        """Messages about exceptions start with the date at fault ("2026-12-31 09:00-15:00
        overlaps ..."): on that date's range, or its row; else above the list."""
        for row in self.exception_rows:
            if not message.startswith(row.day):
                continue
            for range_row in row.ranges:
                minutes = None if range_row.is_blank else range_row.minutes()
                if minutes is None:
                    continue
                suffix = " (+1)" if minutes[1] < minutes[0] else ""
                described = f"{row.day} {range_row.start}-{range_row.end}{suffix}"
                if message.startswith(described + " ") or message.startswith(described + ":"):
                    range_row.error = message
                    return
            row.error = message
            return
        self.exceptions_error = message

    @property
    def exception_errors(self) -> bool:
        new = self.new_exception
        return bool(self.exceptions_error or new.day_error or new.error) or any(
            row.has_errors for row in self.exception_rows
        )

    # --- Validation ---------------------------------------------------------------------------

    @property
    def zone_value(self) -> str:
        return self["timezone"].value() or ""

    @property
    def zone_groups(self) -> list[time_zones.OffsetGroup]:
        """The picker's zones in the page's language, grouped by their offset now; the zone
        shown chosen is listed even if it is a legacy alias no longer offered."""
        entries = time_zones.zone_entries(
            language=time_zones.page_language(), now=self.now, keep=self.zone_value
        )
        return time_zones.grouped_by_offset(entries)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.hours = self._collect_hours()
        if self.new_exception.day:  # typed in "Add a date" but saved without adding it
            self._add_new_exception()
        self.exceptions = self._collect_exceptions()
        try:
            _, _, weekly = staff_services.working_time_validate(
                name=cleaned.get("name", ""), timezone=cleaned.get("timezone", ""), hours=self.hours
            )
        except ValidationError as error:
            self.add_service_errors(error)
        else:
            if not self.exception_errors:
                try:
                    staff_services.exceptions_from_config(self.exceptions, weekly=weekly)
                except ValidationError as error:
                    self.add_service_errors(error)
        return cleaned

    def is_valid(self) -> bool:
        # Errors of the hours live on their rows (next to their inputs), not in self.errors.
        return super().is_valid() and not (
            self.range_errors or self.hours_error or self.exception_errors
        )

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
            elif field_name == "exceptions":
                if not self.exception_errors:
                    self._place_exceptions_error(" ".join(problems))
            elif field_name in self.fields:
                if field_name not in self.errors:  # "choose a zone" says it already
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
            culprit.error = localize_ranges(message)
        else:
            self.hours_error = localize_ranges(message)

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
        if self.exceptions_error:
            summary["exceptions"] = [self.exceptions_error]
        for exception_row in self.exception_rows:
            if exception_row.error:
                summary.setdefault(exception_row.key, []).append(exception_row.error)
            for index, range_row in enumerate(exception_row.ranges):
                for part, problem in (
                    ("start", range_row.start_error),
                    ("end", range_row.end_error),
                    ("range", range_row.error),
                ):
                    if problem:
                        key = f"{exception_row.key}-{index}-{part}"
                        summary.setdefault(key, []).append(problem)
        return summary


_DESCRIBED_RANGE = re.compile(
    rf"\b({'|'.join(schedule.DAY_KEYS)}) (\d\d:\d\d)-(\d\d:\d\d)( \(\+1\))?"
)


def localize_ranges(message: str) -> str:
    """The ranges a schedule message quotes in the configuration file's words ("mon
    22:00-02:00 (+1)") with the weekday's name, as the form shows it ("Monday 22:00–02:00
    (next day)"); the rest of the message is translated where it is raised."""

    def named(match: re.Match[str]) -> str:
        key, start, end, past_midnight = match.groups()
        text = f"{DAY_LABELS[key]} {start}–{end}"
        return text + _(" (next day)") if past_midnight else text

    return _DESCRIBED_RANGE.sub(named, message)


def _is_before(text: str, today: date) -> bool:
    try:
        return date.fromisoformat(text) < today
    except ValueError:
        return False


def _clock_problem(text: str, *, is_end: bool) -> str:
    if not text:
        return _("Enter the end time too.") if is_end else _("Enter the start time too.")
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
            "invalid_choice": gettext_lazy("That working time no longer exists; pick another one."),
        },
    )


class AutoAssignToggleForm(forms.Form):
    enabled = forms.ChoiceField(
        choices=[("on", pgettext_lazy("switch", "On")), ("off", pgettext_lazy("switch", "Off"))]
    )

    @property
    def turn_on(self) -> bool:
        return self.cleaned_data["enabled"] == "on"


class HandoverSettingsForm(forms.Form):
    """Nobody left unanswered: the queue worker's hand-overs (``assignment.handover``)."""

    reassign_unanswered_after_minutes = forms.IntegerField(
        label=gettext_lazy("Reassign a session nobody answered within N minutes"),
        required=False,
        min_value=1,
        max_value=1440,
        help_text=gettext_lazy("Empty: never. 1 to 1440 minutes."),
    )
    return_unanswered_at_shift_end = forms.BooleanField(
        label=gettext_lazy(
            "When a staff member's working hours end, return their unanswered sessions to the queue"
        ),
        required=False,
    )
    return_open_sessions_when_away = forms.BooleanField(
        label=gettext_lazy(
            "When a staff member is marked away, return their open sessions to the queue"
        ),
        required=False,
    )
