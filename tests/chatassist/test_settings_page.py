"""The Chat Assistant settings page through plain HTML form posts, as without JavaScript.

Logged in as a member of the "Store manager" group (not a superuser), so these also prove
the group is enough to run the page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from assignment import config
from assignment.models import AssignmentSettings
from staff.models import Staff, WorkingTime
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db

WORKING_TIMES = reverse("chat_assistant:working-times")
AUTOMATIC = reverse("chat_assistant:automatic-assignment")
CREATE = reverse("chat_assistant:working-time-create")
TOGGLE = reverse("chat_assistant:toggle")


def hours_fields(**days: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields of the hours editor: hours_fields(mon=[("09:00", "18:00")])."""
    fields: dict[str, list[str]] = {}
    for day, ranges in days.items():
        fields[f"{day}-start"] = [start for start, _ in ranges]
        fields[f"{day}-end"] = [end for _, end in ranges]
    return fields


def working_time_form(name="Taipei day", timezone="Asia/Taipei", **days) -> dict:
    days = days or {"mon": [("09:00", "18:00")], "sun": [("22:00", "02:00")]}
    return {"name": name, "timezone": timezone, **hours_fields(**days)}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def set_working_time_url(member: Staff) -> str:
    return reverse("chat_assistant:staff-working-time", args=[member.pk])


# --- The working time tab --------------------------------------------------------------------


def test_working_time_tab_lists_each_with_zone_summary_and_staff_count(manager_client):
    night = make_working_time(
        "Night", "America/New_York", {"sun": [["22:00", "02:00"]], "mon": [["22:00", "06:00"]]}
    )
    StaffFactory.create_batch(2, working_time=night)

    response = manager_client.get(WORKING_TIMES)

    assert response.status_code == 200
    (row,) = response.context["working_times"]
    assert (row.name, row.timezone, row.staff_count) == ("Night", "America/New_York", 2)
    assert row.summary_text == "Mon 22:00-06:00 (+1), Sun 22:00-02:00 (+1)"
    page = response.content.decode()
    assert "Mon 22:00-06:00 (+1), Sun 22:00-02:00 (+1)" in page
    assert 'aria-current="page">Working time</a>' in page
    assert "Create the working time" in page


@override_settings(STORE_TIME_ZONE="Asia/Taipei")
def test_the_create_pop_up_preselects_no_zone_and_offers_canonical_zones(manager_client):
    response = manager_client.get(CREATE, {"return_to": "working-times"})

    page = response.content.decode()
    assert response.status_code == 200
    assert '<dialog id="ca-working-time-dialog"' in page
    assert 'class="ca-dialog" aria-labelledby="ca-dialog-title" open>' in page
    # Nothing is chosen for the manager: the empty choice is, until they pick a zone.
    assert '<option value="" selected data-zone-placeholder>Choose a time zone…</option>' in page
    assert '<option value="Asia/Taipei">(UTC+08:00) Taipei, Taiwan — Asia/Taipei</option>' in page
    assert '<optgroup label="UTC+08:00">' in page
    assert '<option value="America/New_York"' in page
    assert '<option value="Hongkong"' not in page
    assert '<option value="Etc/GMT+8"' not in page


def test_saving_without_a_chosen_zone_is_refused_and_stores_nothing(manager_client):
    response = manager_client.post(CREATE, working_time_form(timezone=""))

    assert response.status_code == 200
    assert response.context["dialog"].form.errors["timezone"] == [
        "Choose a time zone from the list."
    ]
    assert not WorkingTime.objects.exists()


def test_editing_a_working_time_with_a_legacy_zone_keeps_it_chosen(manager_client):
    working_time = WorkingTime.objects.create(name="Old", timezone="Japan")

    page = manager_client.get(reverse("chat_assistant:working-time-edit", args=[working_time.pk]))

    assert '<option value="Japan" selected>(UTC+09:00) Tokyo, Japan — Japan</option>' in (
        page.content.decode()
    )


def test_creating_a_working_time_goes_through_the_service(manager_client):
    response = manager_client.post(CREATE, working_time_form())

    assert response.status_code == 302
    assert response["Location"] == WORKING_TIMES
    working_time = WorkingTime.objects.get()
    assert (working_time.name, working_time.timezone) == ("Taipei day", "Asia/Taipei")
    assert working_time.summary() == "Mon 09:00-18:00, Sun 22:00-02:00 (+1)"
    assert messages_of(manager_client.get(WORKING_TIMES)) == ["Working time “Taipei day” created."]


def test_every_error_shows_next_to_its_input_and_nothing_typed_is_lost(manager_client):
    form = working_time_form(
        name="  ",
        timezone="Mars/Olympus",
        mon=[("09:00", "18:00"), ("25:00", "")],
        tue=[("9", "17:30")],
    )

    response = manager_client.post(CREATE, form)

    assert response.status_code == 200
    dialog = response.context["dialog"]
    assert dialog.is_open
    errors = dialog.form.errors
    assert errors["name"] == ["Give the working time a name."]
    assert errors["timezone"] == ["'Mars/Olympus' is not an IANA time zone."]
    monday = dialog.form.days[0].ranges
    assert [(r.start, r.end) for r in monday] == [("09:00", "18:00"), ("25:00", "")]
    assert monday[1].start_error == "'25:00' is not a time of the form HH:MM."
    assert monday[1].end_error == "Enter the end time too."
    assert (dialog.form.days[1].ranges[0].start, dialog.form.days[1].ranges[0].end) == (
        "09:00",
        "17:30",
    )
    page = response.content.decode()
    assert "Please correct the errors below." in page
    assert 'value="25:00"' in page and "Enter the end time too." in page
    assert '<option value="Mars/Olympus"' not in page  # an unknown zone is not offered
    assert not WorkingTime.objects.exists()


def test_an_overlap_is_reported_on_the_range_at_fault(manager_client):
    form = working_time_form(sun=[("22:00", "02:00")], mon=[("01:00", "03:00"), ("09:00", "18:00")])

    response = manager_client.post(CREATE, form)

    monday = response.context["dialog"].form.days[0]
    # The form's own words for the days, not the configuration file's keys.
    assert monday.ranges[0].error == ("Monday 01:00–03:00 overlaps Sunday 22:00–02:00 (next day).")
    assert monday.ranges[1].error == ""
    assert response.context["dialog"].form.hours_error == ""
    assert not WorkingTime.objects.exists()


def test_a_week_without_hours_is_reported_above_the_hours(manager_client):
    response = manager_client.post(CREATE, {"name": "Empty", "timezone": "UTC"})

    form = response.context["dialog"].form
    assert form.hours_error == "A working time needs at least one range of hours."
    assert "A working time needs at least one range of hours." in response.content.decode()


def test_a_name_already_taken_is_reported_next_to_the_name(manager_client):
    make_working_time("Taipei day")

    response = manager_client.post(CREATE, working_time_form())

    assert response.context["dialog"].form.errors["name"] == [
        "A working time called 'Taipei day' exists already."
    ]
    assert WorkingTime.objects.count() == 1


def test_loosely_typed_times_are_tidied_and_midnight_ends_the_day(manager_client):
    form = working_time_form(mon=[("9", "1730")], tue=[("18.00", "00:00")], sun=[])

    manager_client.post(CREATE, form)

    assert WorkingTime.objects.get().hours_config() == {
        "mon": [["09:00", "17:30"]],
        "tue": [["18:00", "24:00"]],
    }


def test_add_and_remove_range_buttons_work_without_javascript(manager_client):
    form = working_time_form(name="Split", mon=[("09:00", "12:00")])

    added = manager_client.post(CREATE, {**form, "_add": "mon"})

    assert added.status_code == 200
    monday = added.context["dialog"].form.days[0]
    assert [(r.start, r.end) for r in monday.ranges] == [("09:00", "12:00"), ("", "")]
    assert not added.context["dialog"].form.has_errors  # edited, not judged yet
    assert 'value="Split"' in added.content.decode()

    two = {**form, **hours_fields(mon=[("09:00", "12:00"), ("13:00", "18:00")])}
    removed = manager_client.post(CREATE, {**two, "_remove": "mon:0"})

    monday = removed.context["dialog"].form.days[0]
    assert [(r.start, r.end) for r in monday.ranges] == [("13:00", "18:00")]
    assert not WorkingTime.objects.exists()


def test_blank_ranges_are_ignored(manager_client):
    form = working_time_form(mon=[("09:00", "18:00"), ("", "")], sat=[("", "")])

    manager_client.post(CREATE, form)

    assert WorkingTime.objects.get().hours_config() == {"mon": [["09:00", "18:00"]]}


def test_editing_a_working_time_shows_its_hours_and_replaces_them(manager_client):
    working_time = make_working_time("Day", "UTC", {"mon": [["09:00", "18:00"]]})
    url = reverse("chat_assistant:working-time-edit", args=[working_time.pk])

    shown = manager_client.get(url, {"return_to": "working-times"})

    form = shown.context["dialog"].form
    assert form.working_time == working_time
    assert [(r.start, r.end) for r in form.days[0].ranges] == [("09:00", "18:00")]
    assert "Edit the working time" in shown.content.decode()

    response = manager_client.post(
        url, working_time_form(name="Long day", timezone="Europe/Paris", fri=[("08:00", "20:00")])
    )

    assert response.status_code == 302
    working_time.refresh_from_db()
    assert (working_time.name, working_time.timezone) == ("Long day", "Europe/Paris")
    assert working_time.summary() == "Fri 08:00-20:00"
    assert WorkingTime.objects.count() == 1


def test_deleting_asks_first_then_deletes(manager_client):
    working_time = make_working_time("Spare")
    url = reverse("chat_assistant:working-time-delete", args=[working_time.pk])

    confirm = manager_client.get(url)

    assert confirm.context["delete"].working_time == working_time
    assert "No staff member uses it." in confirm.content.decode()
    assert WorkingTime.objects.exists()

    response = manager_client.post(url, follow=True)

    assert not WorkingTime.objects.exists()
    assert messages_of(response) == ["Working time “Spare” deleted."]


def test_deleting_a_working_time_in_use_is_refused_naming_who_uses_it(manager_client, cast):
    url = reverse("chat_assistant:working-time-delete", args=[cast["alice"].working_time_id])

    confirm = manager_client.get(url)
    assert confirm.context["delete"].users == ["Alice", "Bob", "Carol"]
    assert 'value="Delete"' not in confirm.content.decode()

    response = manager_client.post(url, follow=True)

    assert WorkingTime.objects.count() == 1
    assert messages_of(response) == [
        "Always is the working time of Alice, Bob, Carol; give them another one first."
    ]


# --- With the script: JSON answers to the same posts ---------------------------------------------


def test_the_script_gets_the_new_working_time_as_json(manager_client, cast):
    response = manager_client.post(
        CREATE,
        {**working_time_form(), "for_staff": cast["bob"].pk},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 201
    working_time = WorkingTime.objects.get(name="Taipei day")
    assert response.json() == {
        "working_time": {
            "id": working_time.pk,
            "name": "Taipei day",
            "timezone": "Asia/Taipei",
            "summary": "Mon 09:00-18:00, Sun 22:00-02:00 (+1)",
        },
        "message": "Working time “Taipei day” created. Press the save icon to give it to Bob.",
        "redirect": f"{AUTOMATIC}?staff={cast['bob'].pk}&working_time={working_time.pk}"
        f"#staff-{cast['bob'].pk}",
    }
    assert Staff.objects.get(pk=cast["bob"].pk).working_time.name == "Always"  # not yet saved


def test_the_script_gets_errors_as_json_with_the_pop_up_to_show(manager_client):
    response = manager_client.post(
        CREATE, working_time_form(name=""), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"name": ["Give the working time a name."]}
    assert body["html"].strip().startswith('<form method="post" action="/admin/chat-assistant/')
    assert "Give the working time a name." in body["html"]
    assert "csrfmiddlewaretoken" in body["html"]


# --- Opened from the admin's staff form: Django's related-object pop-up ----------------------

POPUP = {"_popup": "1", "_to_field": "id"}


def popup_data(response) -> dict:
    assert response.template_name == [
        "admin/staff/workingtime/popup_response.html",
        "admin/staff/popup_response.html",
        "admin/popup_response.html",
    ]
    return json.loads(response.context["popup_response_data"])


def test_in_the_admins_pop_up_window_only_the_dialog_shows(manager_client):
    response = manager_client.get(CREATE, POPUP)

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["is_popup"] is True
    assert '<body class="popup ' in page
    assert 'id="header"' not in page and 'id="nav-sidebar"' not in page
    assert 'class="ca-tabs"' not in page and "ca-working-times" not in page
    assert 'class="ca-dialog" aria-labelledby="ca-dialog-title" open>' in page
    assert '<input type="hidden" name="_popup" value="1" data-admin-popup>' in page
    assert '<input type="hidden" name="_to_field" value="id" data-admin-popup>' in page


def test_the_tabs_themselves_are_not_shown_as_a_pop_up(manager_client):
    response = manager_client.get(CREATE)

    page = response.content.decode()
    assert response.context["is_popup"] is False
    assert 'id="header"' in page and 'class="ca-tabs"' in page
    assert "data-admin-popup" not in page


def test_created_in_the_admins_pop_up_it_answers_as_djangos_response_add(manager_client):
    response = manager_client.post(CREATE, {**working_time_form(), **POPUP})

    working_time = WorkingTime.objects.get()
    assert response.status_code == 200
    assert popup_data(response) == {"value": str(working_time.pk), "obj": "Taipei day"}
    assert working_time.summary() == "Mon 09:00-18:00, Sun 22:00-02:00 (+1)"
    assert 'src="/static/admin/js/popup_response.js"' in response.content.decode()
    assert messages_of(manager_client.get(WORKING_TIMES)) == []  # Django's pop-up: no message


def test_edited_in_the_admins_pop_up_it_answers_as_djangos_response_change(manager_client):
    working_time = make_working_time("Day", "UTC", {"mon": [["09:00", "18:00"]]})
    url = reverse("chat_assistant:working-time-edit", args=[working_time.pk])

    response = manager_client.post(url, {**working_time_form(name="Long day"), **POPUP})

    assert popup_data(response) == {
        "action": "change",
        "value": str(working_time.pk),
        "obj": "Long day",
        "new_value": str(working_time.pk),
    }
    working_time.refresh_from_db()
    assert working_time.name == "Long day"


def test_without_to_field_the_pop_up_answers_with_the_primary_key(manager_client):
    response = manager_client.post(CREATE, {**working_time_form(), "_popup": "1"})

    assert popup_data(response) == {"value": str(WorkingTime.objects.get().pk), "obj": "Taipei day"}


def test_errors_in_the_admins_pop_up_keep_it_a_pop_up(manager_client):
    form = {**working_time_form(timezone="Mars/Base"), **POPUP}

    response = manager_client.post(CREATE, form)
    added = manager_client.post(CREATE, {**form, "_add": "mon"})

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["dialog"].form.errors["timezone"]
    assert response.context["is_popup"] is True
    assert '<input type="hidden" name="_popup" value="1" data-admin-popup>' in page
    assert added.context["is_popup"] is True  # "+ Add a range" without JavaScript, too
    assert not WorkingTime.objects.exists()


@pytest.mark.parametrize("to_field", ["name", "nonexistent"])
def test_a_to_field_the_admin_would_refuse_is_refused(manager_client, to_field):
    params = {"_popup": "1", "_to_field": to_field}

    shown = manager_client.get(CREATE, params)
    posted = manager_client.post(CREATE, {**working_time_form(), **params})

    assert (shown.status_code, posted.status_code) == (400, 400)
    assert not WorkingTime.objects.exists()


# --- The automatic assignment tab ---------------------------------------------------------------


def test_staff_list_shows_what_a_manager_needs_to_know(manager_client, always_on):
    now = datetime.now(UTC)
    StaffFactory(
        name="Mei",
        working_time=always_on,
        max_open_sessions=2,
        open_sessions=2,
        last_assigned_at=now - timedelta(hours=3, minutes=12),
    )
    StaffFactory(name="Kai", active=False)

    response = manager_client.get(AUTOMATIC)

    page = response.content.decode()
    kai, mei = response.context["staff_rows"]  # by name
    assert (kai.staff.name, kai.last_assigned, kai.at_capacity) == ("Kai", "Never", False)
    assert (mei.staff.name, mei.last_assigned, mei.at_capacity) == (
        "Mei",
        "3\xa0hours, 12\xa0minutes ago",
        True,
    )
    assert "Away" in page and "Available" in page and "No limit" in page
    assert (
        f'title="{mei.staff.last_assigned_at:%Y-%m-%d %H:%M:%S} UTC">'
        "3\xa0hours, 12\xa0minutes ago</time>" in page
    )
    assert "+ Working hour" in page  # Kai has none
    assert "+ Create the working time" in page


def test_toggle_looks_unavailable_and_explains_while_nobody_has_working_hours(manager_client):
    StaffFactory(name="Kai")

    response = manager_client.get(AUTOMATIC)

    page = response.content.decode()
    assert response.context["rule_met"] is False
    assert 'aria-checked="false"' in page
    assert 'aria-disabled="true"' in page
    assert "Why it cannot be turned on yet" in page


def test_toggle_is_refused_without_working_hours_and_says_what_to_do(manager_client):
    StaffFactory(name="Kai")

    response = manager_client.post(TOGGLE, {"enabled": "on"}, follow=True)

    assert AssignmentSettings.objects.get().auto_assign is False
    assert messages_of(response) == [
        config.TOGGLE_RULE_MESSAGE + " Use “+ Working hour” in the staff list below."
    ]
    assert response.redirect_chain == [(AUTOMATIC, 302)]


def test_toggle_turns_on_and_off_once_someone_has_working_hours(manager_client, cast):
    on = manager_client.post(TOGGLE, {"enabled": "on"}, follow=True)

    assert AssignmentSettings.objects.get().auto_assign is True
    assert messages_of(on)[0].startswith("Automatic assignment is on")
    assert 'aria-checked="true"' in on.content.decode()

    off = manager_client.post(TOGGLE, {"enabled": "off"}, follow=True)

    assert AssignmentSettings.objects.get().auto_assign is False
    assert messages_of(off)[0].startswith("Automatic assignment is off")


def test_toggle_needs_on_or_off(manager_client, cast):
    response = manager_client.post(TOGGLE, {"enabled": "maybe"}, follow=True)

    assert messages_of(response) == ["Choose whether automatic assignment is on or off."]
    assert AssignmentSettings.objects.get().auto_assign is False


def test_the_disk_icon_gives_a_staff_member_a_working_time(manager_client, always_on):
    kai = StaffFactory(name="Kai")

    response = manager_client.post(
        set_working_time_url(kai), {"working_time": always_on.pk}, follow=True
    )

    assert Staff.objects.get(pk=kai.pk).working_time == always_on
    assert messages_of(response) == ["Saved: Kai now works “Always”."]
    assert response.redirect_chain == [(f"{AUTOMATIC}#staff-{kai.pk}", 302)]


def test_the_disk_icon_changes_and_removes_a_working_time(manager_client, cast):
    late = make_working_time("Late", "UTC", {"fri": [["18:00", "02:00"]]})
    bob = cast["bob"]

    changed = manager_client.post(set_working_time_url(bob), {"working_time": late.pk}, follow=True)
    assert Staff.objects.get(pk=bob.pk).working_time == late
    assert messages_of(changed) == ["Saved: Bob now works “Late”."]

    response = manager_client.post(set_working_time_url(bob), {"working_time": ""}, follow=True)

    assert Staff.objects.get(pk=bob.pk).working_time is None
    assert messages_of(response) == [
        "Saved: Bob has no working time now and gets no sessions by rule."
    ]


def test_saving_without_a_change_says_there_was_nothing_to_save(manager_client, cast):
    response = manager_client.post(
        set_working_time_url(cast["bob"]),
        {"working_time": cast["bob"].working_time_id},
        follow=True,
    )

    assert messages_of(response) == ["Nothing to save: Bob already works “Always”."]


def test_removing_the_last_working_time_while_on_is_refused(manager_client, cast, auto_assign_on):
    Staff.objects.exclude(pk=cast["alice"].pk).update(working_time=None)

    response = manager_client.post(
        set_working_time_url(cast["alice"]), {"working_time": ""}, follow=True
    )

    assert Staff.objects.get(pk=cast["alice"].pk).working_time is not None
    assert messages_of(response) == [
        "Alice keeps “Always”: automatic assignment is on, and it needs at least one staff "
        "member with a working time. Give another staff member a working time first, or turn "
        "automatic assignment off."
    ]


def test_a_working_time_deleted_meanwhile_is_reported(manager_client, cast):
    response = manager_client.post(
        set_working_time_url(cast["bob"]), {"working_time": 999_999}, follow=True
    )

    assert messages_of(response) == ["Bob: That working time no longer exists; pick another one."]
    assert Staff.objects.get(pk=cast["bob"].pk).working_time_id == cast["alice"].working_time_id


def test_created_from_a_staff_row_it_returns_there_with_the_new_one_chosen(manager_client):
    kai = StaffFactory(name="Kai")

    response = manager_client.post(
        CREATE, {**working_time_form(), "for_staff": kai.pk}, follow=True
    )

    working_time = WorkingTime.objects.get()
    assert response.redirect_chain == [
        (f"{AUTOMATIC}?staff={kai.pk}&working_time={working_time.pk}#staff-{kai.pk}", 302)
    ]
    assert messages_of(response) == [
        "Working time “Taipei day” created. Press the save icon to give it to Kai."
    ]
    (row,) = response.context["staff_rows"]
    assert (row.pending, row.selected_id) == (True, working_time.pk)
    page = response.content.decode()
    assert f'value="{working_time.pk}" checked>' in page
    assert "Not saved yet" in page
    assert Staff.objects.get(pk=kai.pk).working_time is None  # the disk icon saves it


# --- Plain HTTP rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [TOGGLE, CREATE, "/admin/chat-assistant/staff/1/working-time/"],
)
def test_every_post_needs_the_csrf_token(manager, cast, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(url, {"enabled": "on", "working_time": ""})

    assert response.status_code == 403
    assert AssignmentSettings.objects.get().auto_assign is False


@pytest.mark.parametrize("url", [TOGGLE, "/admin/chat-assistant/staff/1/working-time/"])
def test_actions_answer_only_posts(manager_client, url):
    assert manager_client.get(url).status_code == 405


@pytest.mark.parametrize("tab", [WORKING_TIMES, AUTOMATIC])
def test_both_tabs_link_to_the_three_reports_a_store_manager_may_open(manager_client, tab):
    page = manager_client.get(tab).content.decode()

    for name in ("coverage", "next_in_line", "fairness"):
        report = reverse(f"chatassist_reports:{name}")
        assert f'href="{report}"' in page
        assert manager_client.get(report).status_code == 200
