"""The Exceptions part of the working-time pop-up, through plain form posts (as without
JavaScript): add a date closed or with hours, list the upcoming ones, remove one, the same
validation and error placement as the weekly hours, and "Add public holidays"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation

from chatassist.pages.forms import WorkingTimeForm
from staff.models import WorkingTime, WorkingTimeException
from staff.services import exception_set
from tests.factories import make_working_time

pytestmark = pytest.mark.django_db

CREATE = reverse("chat_assistant:working-time-create")
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Tuesday 1 December 2026


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def taipei() -> WorkingTime:
    """Weekdays 09:00-18:00 and Sunday 22:00-02:00; a past exception (kept on every save)."""
    working_time = make_working_time(
        "Taipei day",
        "Asia/Taipei",
        {
            **{day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sun": [["22:00", "02:00"]],
        },
    )
    exception_set(working_time=working_time, day="2026-10-10", hours=[], name="National Day")
    return working_time


def edit_url(working_time: WorkingTime) -> str:
    return reverse("chat_assistant:working-time-edit", args=[working_time.pk])


def form_of(working_time: WorkingTime) -> dict:
    """The pop-up's fields as a GET shows them (weekly hours and exceptions)."""
    fields: dict[str, list[str]] = {
        "name": [working_time.name],
        "timezone": [working_time.timezone],
    }
    for day, ranges in working_time.hours_config().items():
        fields[f"{day}-start"] = [start for start, _ in ranges]
        fields[f"{day}-end"] = [end for _, end in ranges]
    fields["exc-date"] = []
    for exception in working_time.date_exceptions():
        key = f"exc-{exception.day.isoformat()}"
        fields["exc-date"].append(exception.day.isoformat())
        fields[f"{key}-name"] = [exception.name]
        config = working_time.exceptions_config()[exception.day.isoformat()]
        fields[f"{key}-start"] = [start for start, _ in config]
        fields[f"{key}-end"] = [end for _, end in config]
    return fields


def saved_exceptions(working_time: WorkingTime) -> dict[str, tuple[str, list]]:
    working_time.refresh_from_db()
    config = working_time.exceptions_config()
    return {
        row.date.isoformat(): (row.name, config[row.date.isoformat()])
        for row in working_time.exceptions.order_by("date")
    }


def test_the_pop_up_lists_upcoming_exceptions_and_keeps_past_ones_hidden(manager_client, taipei):
    exception_set(working_time=taipei, day="2026-12-25", hours=[], name="Christmas Day")

    response = manager_client.get(edit_url(taipei))

    form = response.context["dialog"].form
    assert [row.day for row in form.upcoming_exception_rows] == ["2026-12-25"]
    assert [row.day for row in form.past_exception_rows] == ["2026-10-10"]
    page = response.content.decode()
    assert "Fri 25 Dec 2026" in page and 'value="Christmas Day"' in page
    assert "1 past exception kept." in page


def test_a_manager_marks_christmas_closed_and_new_years_eve_short(manager_client, taipei):
    url = edit_url(taipei)
    fields = form_of(taipei)

    added = manager_client.post(
        url,
        {
            **fields,
            "new-exc-date": "2026-12-25",
            "new-exc-name": "Christmas",
            "_add_exception": "1",
        },
    )
    assert added.status_code == 200
    assert not WorkingTimeException.objects.filter(date="2026-12-25").exists()  # not yet saved
    rows = added.context["dialog"].form.exception_rows
    assert [(row.day, row.name, row.closed) for row in rows] == [
        ("2026-10-10", "National Day", True),
        ("2026-12-25", "Christmas", True),
    ]

    fields["exc-date"] = ["2026-10-10", "2026-12-25"]
    fields["exc-2026-12-25-name"] = ["Christmas"]
    second = manager_client.post(
        url,
        {
            **fields,
            "new-exc-date": "2026-12-31",
            "new-exc-name": "New Year's Eve",
            "new-exc-kind": "hours",
            "new-exc-start": "9",
            "new-exc-end": "15",
            "_add_exception": "1",
        },
    )
    eve = second.context["dialog"].form.exception_rows[-1]
    assert (eve.day, [(r.start, r.end) for r in eve.ranges]) == ("2026-12-31", [("09:00", "15:00")])

    fields["exc-date"].append("2026-12-31")
    fields["exc-2026-12-31-name"] = ["New Year's Eve"]
    fields["exc-2026-12-31-start"], fields["exc-2026-12-31-end"] = ["09:00"], ["15:00"]
    saved = manager_client.post(url, {**fields, "_save": "Save"})

    assert saved.status_code == 302
    assert saved_exceptions(taipei) == {
        "2026-10-10": ("National Day", []),
        "2026-12-25": ("Christmas", []),
        "2026-12-31": ("New Year's Eve", [["09:00", "15:00"]]),
    }


def test_a_date_typed_but_not_added_is_saved_with_the_rest(manager_client, taipei):
    response = manager_client.post(
        edit_url(taipei), {**form_of(taipei), "new-exc-date": "2026-12-25", "_save": "Save"}
    )

    assert response.status_code == 302
    assert "2026-12-25" in saved_exceptions(taipei)


def test_removing_an_exception_takes_effect_on_save(manager_client, taipei):
    exception_set(working_time=taipei, day="2026-12-25", hours=[])
    fields = form_of(taipei)

    removed = manager_client.post(edit_url(taipei), {**fields, "_remove_exception": "2026-12-25"})
    assert [row.day for row in removed.context["dialog"].form.exception_rows] == ["2026-10-10"]
    assert "2026-12-25" in saved_exceptions(taipei)

    fields["exc-date"] = ["2026-10-10"]
    manager_client.post(edit_url(taipei), {**fields, "_save": "Save"})
    assert list(saved_exceptions(taipei)) == ["2026-10-10"]


def test_an_overlap_is_reported_on_the_exception_range_at_fault(manager_client, taipei):
    fields = form_of(taipei)
    # Monday 28 December from 01:00 meets Sunday's 22:00-02:00 tail.
    fields["exc-date"].append("2026-12-28")
    fields["exc-2026-12-28-start"], fields["exc-2026-12-28-end"] = ["01:00"], ["05:00"]

    response = manager_client.post(edit_url(taipei), {**fields, "_save": "Save"})

    assert response.status_code == 200
    row = response.context["dialog"].form.exception_rows[-1]
    assert row.ranges[0].error == (
        "2026-12-28 01:00-05:00 overlaps 2026-12-27 22:00-02:00 (+1) (the weekly hours of sun)."
    )
    assert "Please correct the errors below." in response.content.decode()
    assert "2026-12-28" not in saved_exceptions(taipei)


def test_a_bad_time_is_reported_next_to_its_input(manager_client, taipei):
    fields = form_of(taipei)
    fields["exc-date"].append("2026-12-31")
    fields["exc-2026-12-31-start"], fields["exc-2026-12-31-end"] = ["09:00", "noon"], ["15:00", ""]

    response = manager_client.post(edit_url(taipei), {**fields, "_save": "Save"})

    ranges = response.context["dialog"].form.exception_rows[-1].ranges
    assert ranges[1].start_error == "'noon' is not a time of the form HH:MM."
    assert ranges[1].end_error == "Enter the end time too."
    assert 'value="noon"' in response.content.decode()
    assert "2026-12-31" not in saved_exceptions(taipei)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the date."),
        ("31/12/2026", "Enter a date as YYYY-MM-DD."),
        ("2026-10-10", "2026-10-10 is already an exception: change it in the list."),
    ],
)
def test_a_bad_new_date_is_reported_next_to_the_date(manager_client, taipei, typed, message):
    response = manager_client.post(
        edit_url(taipei), {**form_of(taipei), "new-exc-date": typed, "_add_exception": "1"}
    )

    assert response.context["dialog"].form.new_exception.day_error == message
    assert message in response.content.decode()


def test_a_new_working_time_may_come_with_exceptions(manager_client):
    response = manager_client.post(
        CREATE,
        {
            "name": "Tokyo",
            "timezone": "Asia/Tokyo",
            "mon-start": "09:00",
            "mon-end": "18:00",
            "exc-date": "2027-01-01",
            "exc-2027-01-01-name": "元日",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert saved_exceptions(WorkingTime.objects.get(name="Tokyo")) == {"2027-01-01": ("元日", [])}


# --- Add public holidays ----------------------------------------------------------------------


def test_taiwans_2027_holidays_are_listed_chosen_and_added_as_closed_days(manager_client, taipei):
    exception_set(working_time=taipei, day="2027-12-31", hours=[["09:00", "12:00"]])
    fields = {**form_of(taipei), "holiday-country": "TW", "holiday-year": "2027"}

    shown = manager_client.post(edit_url(taipei), {**fields, "_show_holidays": "1"})

    picker = shown.context["dialog"].form.holiday_picker
    listed = {choice.value: (choice.name, choice.taken) for choice in picker.shown}
    assert listed["2027-10-10"] == ("National Day", False)
    assert listed["2027-12-31"][1] is True  # already an exception: not offered again
    assert "Add the ticked as closed days" in shown.content.decode()

    added = manager_client.post(
        edit_url(taipei),
        {**fields, "holiday": ["2027-01-01", "2027-10-10"], "_add_holidays": "1"},
    )
    rows = {row.day: row for row in added.context["dialog"].form.exception_rows}
    assert rows["2027-10-10"].name == "National Day" and rows["2027-10-10"].closed
    assert "2027-02-04" not in rows  # not ticked

    fields["exc-date"] += ["2027-01-01", "2027-10-10"]
    fields["exc-2027-01-01-name"] = [rows["2027-01-01"].name]
    fields["exc-2027-10-10-name"] = ["National Day"]
    manager_client.post(edit_url(taipei), {**fields, "_save": "Save"})
    saved = saved_exceptions(taipei)
    assert saved["2027-10-10"] == ("National Day", [])
    assert saved["2027-12-31"] == ("", [["09:00", "12:00"]])


def test_holiday_names_follow_the_pages_language(manager_client, taipei):
    fields = {**form_of(taipei), "holiday-country": "JP", "holiday-year": "2027"}

    english = manager_client.post(edit_url(taipei), {**fields, "_show_holidays": "1"})
    data = QueryDict(mutable=True)
    for key, values in {**fields, "_show_holidays": ["1"]}.items():
        data.setlist(key, values if isinstance(values, list) else [values])
    with translation.override("ja"):
        japanese = WorkingTimeForm(data, working_time=taipei)
        japanese.apply_editor_action()

    first = english.context["dialog"].form.holiday_picker.shown[1]
    assert (first.value, first.name) == ("2027-01-11", "Coming of Age Day")
    first = japanese.holiday_picker.shown[1]
    assert (first.value, first.name) == ("2027-01-11", "成人の日")


def test_a_country_with_regions_offers_them(manager_client, taipei):
    fields = {**form_of(taipei), "holiday-country": "US", "holiday-year": "2027"}

    response = manager_client.post(edit_url(taipei), {**fields, "_show_holidays": "1"})

    assert ("CA", "California") in response.context["dialog"].form.holiday_picker.subdivisions
    assert '<option value="CA">California (CA)</option>' in response.content.decode()


@pytest.mark.parametrize(
    ("country", "subdiv", "year", "message"),
    [
        ("", "", "2027", "Choose a country."),
        ("XX", "", "2027", "'XX' is not a country code the holidays data knows"),
        ("GB", "XYZ", "2027", "'XYZ' is not a subdivision of GB"),
        ("TW", "", "soon", "Enter a year, e.g. 2027."),
    ],
)
def test_bad_holiday_choices_are_reported_in_the_picker(
    manager_client, taipei, country, subdiv, year, message
):
    fields = {
        **form_of(taipei),
        "holiday-country": country,
        "holiday-subdiv": subdiv,
        "holiday-year": year,
    }

    response = manager_client.post(edit_url(taipei), {**fields, "_show_holidays": "1"})

    assert response.status_code == 200
    assert response.context["dialog"].form.holiday_picker.error.startswith(message)


def test_the_script_gets_an_edited_pop_up_as_json(manager_client, taipei):
    response = manager_client.post(
        edit_url(taipei),
        {**form_of(taipei), "new-exc-date": "2026-12-25", "_add_exception": "1"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["editing"] is True
    assert 'data-exception="2026-12-25"' in body["html"]
    assert "2026-12-25" not in saved_exceptions(taipei)


def test_the_working_time_list_shows_the_next_exception(manager_client, taipei):
    exception_set(working_time=taipei, day="2026-12-25", hours=[], name="Christmas Day")
    exception_set(working_time=taipei, day="2026-12-31", hours=[["09:00", "15:00"]])

    response = manager_client.get(reverse("chat_assistant:working-times"))

    (row,) = response.context["working_time_rows"]
    assert row.next_exception_text == "Fri 25 Dec 2026: closed (Christmas Day)"
    assert "Fri 25 Dec 2026: closed (Christmas Day)" in response.content.decode()
