"""The plain GET forms of the reports: a week to show, an instant to ask about."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assignment.reports import common
from staff import coverage


class WeekForm(forms.Form):
    week = forms.CharField(
        required=False,
        label=gettext_lazy("Week of"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Any day of the week to show."),
    )

    def clean_week(self):
        text = self.cleaned_data["week"].strip()
        if not text:
            return None
        try:
            return common.parse_week_of(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class MomentForm(forms.Form):
    """A wall-clock date and time in the store's zone, as a datetime-local input sends it.

    A time the clocks skip is an error; a time they repeat is read as its first occurrence
    unless ``fold=1`` asks for the second.
    """

    at = forms.CharField(
        required=False,
        label=gettext_lazy("At"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    fold = forms.TypedChoiceField(
        required=False,
        choices=[("0", "first"), ("1", "second")],
        coerce=int,
        # django-stubs types empty_value as str | None; Django takes any value (its docs:
        # "the value to use to represent empty"), and the view computes 1 - fold.
        empty_value=0,  # type: ignore[arg-type]
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.repeated = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        text = (cleaned.get("at") or "").strip()
        if not text or "at" in self.errors:
            cleaned["instant"] = None
            return cleaned
        wall = _parse_wall(text)
        if wall is None:
            self.add_error(
                "at", _("%(text)r is not a date and time (YYYY-MM-DDTHH:MM).") % {"text": text}
            )
            return cleaned
        if not common.FIRST_DAY <= wall.date() <= common.LAST_DAY:
            self.add_error(
                "at", _("%(text)r is outside the calendar this report can show.") % {"text": text}
            )
            return cleaned
        wall = wall.replace(fold=cleaned.get("fold") or 0)
        try:
            cleaned["instant"] = coverage.resolve_local(wall, self.zone)
        except coverage.NonexistentLocalTime:
            self.add_error(
                "at",
                _(
                    "%(time)s on %(day)s does not occur in %(zone)s: the clocks skip it. "
                    "Pick a time after the change."
                )
                % {
                    "time": f"{wall:%H:%M}",
                    "day": date_format(wall.date(), "DATE_FORMAT"),
                    "zone": self.zone.key,
                },
            )
            return cleaned
        self.repeated = coverage.is_repeated(wall, self.zone)
        return cleaned


def _parse_wall(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 - read in the store's zone
        except ValueError:
            continue
    return None
