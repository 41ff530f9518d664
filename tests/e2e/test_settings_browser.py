"""The Chat Assistant settings page as a store manager uses it, in headless Chromium.

Each step saves a screenshot to tests/e2e/screenshots/ (see the README).
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff, WorkingTime
from tests.conftest import WEBHOOK_URL, sign_headers
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import StaffFactory, make_working_time

pytestmark = pytest.mark.django_db(transaction=True)

ALL_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day(page: Page, label: str):
    return page.locator("#ca-working-time-dialog").locator(f"[data-day-label='{label}']")


def staff_row(page: Page, member: Staff):
    return page.locator(f"#staff-{member.pk}")


def post_webhook(base_url: str, payload: dict) -> tuple[int, dict]:
    """A real HTTP delivery, signed as the chat platform signs it."""
    body = json.dumps(payload).encode()
    headers = {
        name.removeprefix("HTTP_").replace("_", "-").lower(): value
        for name, value in sign_headers(body, msg_id="evt-browser-1").items()
    }
    request = urllib.request.Request(
        base_url + WEBHOOK_URL,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_manager_sets_up_automatic_assignment_and_a_new_session_is_assigned(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    alice = StaffFactory(name="Alice Wong", email="alice@example.com")
    bob = StaffFactory(name="Bob Martin", email="bob@example.com")

    # From the admin index to the settings page.
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Chat Assistant settings").first.click()
    expect(page.locator(".breadcrumbs")).to_contain_text("Chat Assistant settings")
    expect(page.locator(".ca-tab.is-current")).to_have_text("Working time")
    screenshot("01-working-time-tab-empty")

    # Create a working time in the pop-up; a mistake first.
    page.get_by_role("link", name="Create the working time").click()
    dialog = page.locator("#ca-working-time-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("select[name=timezone]")).to_have_value("")  # none until chosen
    dialog.get_by_label("Search time zones").fill("taipei")
    expect(dialog.locator("select[name=timezone]")).to_have_value("Asia/Taipei")
    dialog.get_by_label("Name").fill("Taipei day")
    day(page, "Sunday").get_by_role("button", name="Add a range on Sunday").click()
    day(page, "Sunday").get_by_label("Sunday range 1, from").fill("22:00")
    day(page, "Sunday").get_by_label("Sunday range 1, to").fill("02:00")
    expect(day(page, "Sunday").locator("[data-next-day]")).to_be_visible()  # past midnight
    day(page, "Monday").get_by_role("button", name="Add a range on Monday").click()
    day(page, "Monday").get_by_label("Monday range 2, from").fill("01:00")
    day(page, "Monday").get_by_label("Monday range 2, to").fill("03:00")
    screenshot("02-create-dialog-filled")
    dialog.get_by_role("button", name="Save", exact=True).click()

    error = day(page, "Monday").locator(".errorlist")
    expect(error).to_contain_text("Monday 01:00–03:00 overlaps Sunday 22:00–02:00 (next day)")
    expect(dialog.get_by_label("Name")).to_have_value("Taipei day")  # nothing typed is lost
    expect(dialog.locator("select[name=timezone]")).to_have_value("Asia/Taipei")
    expect(day(page, "Sunday").get_by_label("Sunday range 1, from")).to_have_value("22:00")
    assert not WorkingTime.objects.exists()
    screenshot("03-validation-error-next-to-the-range")

    day(page, "Monday").get_by_role("button", name="Remove Monday range 2").click()
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Working time “Taipei day” created.")
    row = page.locator("#ca-working-times tbody tr", has_text="Taipei day")
    expect(row).to_contain_text("Asia/Taipei")
    expect(row).to_contain_text("Mon-Fri 09:00-18:00, Sun 22:00-02:00 (+1)")
    screenshot("04-working-time-created")

    # The toggle is refused while nobody has working hours.
    # The tab (the sidebar's Chat Assistant entry links the same page by the same name).
    tabs = page.get_by_role("navigation", name="Settings sections")
    tabs.get_by_role("link", name="Automatically assigning sessions").click()
    toggle = page.get_by_role("switch", name="Automatically assigning sessions")
    expect(toggle).to_have_attribute("aria-checked", "false")
    expect(toggle).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#ca-toggle-why")).to_contain_text("needs at least one staff member")
    # aria-disabled (unavailable) yet pressable, to answer with the reason: force past
    # Playwright's "enabled" check, as a pointer or keyboard press goes through.
    toggle.click(force=True)
    expect(page.locator(".messagelist .error")).to_contain_text(
        "can only be on while at least one staff member has a working time"
    )
    expect(toggle).to_have_attribute("aria-checked", "false")
    screenshot("05-toggle-refused")

    # "+ Working hour" with an existing working time, saved with the disk icon.
    staff_row(page, alice).get_by_text("+ Working hour").click()
    screenshot("06-working-hour-dropdown")
    staff_row(page, alice).get_by_role("radio", name=re.compile("Taipei day")).check()
    expect(staff_row(page, alice).locator("[data-unsaved]")).to_have_text(
        "Not saved yet: Taipei day"
    )
    staff_row(page, alice).get_by_role("button", name="Save the working time of Alice Wong").click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "Saved: Alice Wong now works “Taipei day”."
    )
    expect(staff_row(page, alice).locator("[data-current]")).to_have_text("Taipei day")
    screenshot("07-saved-with-the-disk-icon")

    # "+ Create the working time" inside Bob's dropdown: the new one is chosen at once.
    staff_row(page, bob).get_by_text("+ Working hour").click()
    staff_row(page, bob).get_by_role("link", name="+ Create the working time").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Time zone", exact=True).select_option("UTC")  # chosen, never a default
    dialog.get_by_label("Name").fill("Around the clock")
    for label in ALL_DAYS:
        if label in ("Saturday", "Sunday"):
            day(page, label).get_by_role("button", name=f"Add a range on {label}").click()
        day(page, label).get_by_label(f"{label} range 1, from").fill("00:00")
        day(page, label).get_by_label(f"{label} range 1, to").fill("24:00")
    screenshot("08-create-from-the-dropdown")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    # (The dropdown has closed again: its options are there, only hidden.)
    new_option = staff_row(page, bob).get_by_role(
        "radio", name=re.compile("Around the clock"), include_hidden=True
    )
    expect(new_option).to_be_checked()
    expect(staff_row(page, bob).locator("[data-unsaved]")).to_have_text(
        "Not saved yet: Around the clock"
    )
    expect(page.locator(".messagelist")).to_contain_text("Press the save icon to give it to Bob")
    # Every other row's dropdown offers it too.
    expect(
        staff_row(page, alice).get_by_role(
            "radio", name=re.compile("Around the clock"), include_hidden=True
        )
    ).to_have_count(1)
    screenshot("09-new-working-time-chosen-in-the-row")
    staff_row(page, bob).get_by_role("button", name="Save the working time of Bob Martin").click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "Saved: Bob Martin now works “Around the clock”."
    )

    # Now the toggle is accepted.
    toggle = page.get_by_role("switch", name="Automatically assigning sessions")
    expect(toggle).not_to_have_attribute("aria-disabled", "true")
    toggle.click()
    expect(page.locator(".messagelist .success")).to_contain_text("Automatic assignment is on")
    expect(toggle).to_have_attribute("aria-checked", "true")
    screenshot("10-toggle-on")

    # A customer writes: the signed webhook arrives and the session is assigned at once.
    status, body = post_webhook(
        live_server.url,
        {
            "message_id": "m-browser-1",
            "customer_id": "c-77",
            "customer_name": "Grace Lee",
            "text": "Is the blue jacket back in stock?",
        },
    )
    assert status == 201
    assert body["session"]["assignment"] == "assigned"
    session = ChatSession.objects.get(pk=body["session"]["id"])
    # Both are never assigned; Bob is on duty around the clock, Alice only in Taipei hours.
    expected = session.assigned_staff
    assert expected in (alice, bob)
    assert body["session"]["assigned_to"]["name"] == expected.name
    event = AssignmentEvent.objects.get(session=session)
    assert event.reason == "never assigned"

    # The manager finds it in the sessions list, with the reason.
    page.goto(f"{live_server.url}/admin/assignment/chatsession/")
    result = page.locator("#result_list tbody tr", has_text="Grace Lee")
    expect(result).to_contain_text(expected.name)
    expect(result.locator(".field-assignment_reason")).to_have_text("never assigned")
    expect(result.locator(".field-state")).to_have_text("Open")
    screenshot("11-session-assigned-with-the-reason")


def test_the_settings_page_reads_well_on_a_phone_and_in_dark_mode(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    late = make_working_time(
        "Late shift", "Europe/London", {"fri": [["18:00", "02:00"]], "sat": [["18:00", "02:00"]]}
    )
    make_working_time(
        "Taipei day", "Asia/Taipei", {d: [["09:00", "18:00"]] for d in ("mon", "tue")}
    )
    StaffFactory(name="Mei Lin", email="mei@example.com", working_time=late, max_open_sessions=3)
    StaffFactory(name="Kai Chen", email="kai.chen.long.address@example.com", active=False)
    base = f"{live_server.url}/admin/chat-assistant/"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="dark")
    page.goto(base + "automatic-assignment/")
    screenshot("desktop-dark-automatic-assignment")
    page.goto(base)
    page.get_by_role("link", name="Create the working time").click()
    screenshot("desktop-dark-create-dialog", full_page=False)

    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("", "working-time"), ("automatic-assignment/", "automatic-assignment")):
        page.goto(base + path)
        screenshot(f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} scrolls sideways on a phone ({width} px)"
    page.locator("[data-staff-row]", has_text="Kai Chen").get_by_text("+ Working hour").click()
    screenshot("phone-working-hour-dropdown", full_page=False)
    page.locator("[data-staff-row]", has_text="Kai Chen").get_by_role(
        "link", name="+ Create the working time"
    ).click()
    screenshot("phone-create-dialog", full_page=False)
    page.emulate_media(color_scheme="dark")
    screenshot("phone-dark-create-dialog", full_page=False)


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_the_pop_up_is_a_page_and_still_works(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    page.goto(f"{live_server.url}/admin/chat-assistant/")

    page.get_by_role("link", name="Create the working time").click()
    assert page.url.endswith("/admin/chat-assistant/working-times/new/?return_to=working-times")
    dialog = page.locator("#ca-working-time-dialog")
    expect(dialog).to_be_visible()
    # Without JavaScript: a plain list grouped by offset, and a zone must be chosen in it.
    dialog.get_by_label("Time zone", exact=True).select_option("Europe/London")
    dialog.get_by_label("Name").fill("Weekend")
    page.get_by_role("button", name="Add a range on Saturday").click()  # a round trip
    day(page, "Saturday").get_by_label("Saturday range 1, from").fill("10:00")
    day(page, "Saturday").get_by_label("Saturday range 1, to").fill("16:00")
    expect(dialog.get_by_label("Name")).to_have_value("Weekend")
    screenshot("no-js-dialog-as-a-page")
    dialog.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("Working time “Weekend” created.")
    assert WorkingTime.objects.get(name="Weekend").summary() == (
        "Mon-Fri 09:00-18:00, Sat 10:00-16:00"
    )


# --- One door: the admin's ways to a working time lead to the same pop-up -------------------


def test_the_staff_forms_plus_opens_the_pop_up_and_the_new_working_time_comes_back_chosen(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    make_working_time("Always", "UTC", {d: [["00:00", "24:00"]] for d in ("mon", "tue")})
    alice = StaffFactory(name="Alice Wong", email="alice@example.com")
    page.goto(f"{live_server.url}/admin/staff/staff/{alice.pk}/change/")
    select = page.locator("select#id_working_time")
    expect(select).to_have_value("")

    # "+" beside the working time: Django's pop-up window, showing the settings page's dialog.
    with page.expect_popup() as opened:
        page.locator("#add_id_working_time").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert "/admin/chat-assistant/working-times/new/?_popup=1&_to_field=id" in popup.url
    dialog = popup.locator("#ca-working-time-dialog")
    expect(dialog).to_be_visible()
    expect(popup.locator("#header")).to_have_count(0)  # a pop-up: no admin header or tabs
    expect(popup.locator(".ca-tabs")).to_have_count(0)
    dialog.get_by_label("Search time zones").fill("taipei")
    expect(dialog.locator("select[name=timezone]")).to_have_value("Asia/Taipei")
    dialog.get_by_label("Name").fill("Taipei day")
    popup.screenshot(path=str(SCREENSHOTS / "staff-form-plus--01-pop-up.png"))
    with popup.expect_event("close"):
        dialog.get_by_role("button", name="Save", exact=True).click()

    created = WorkingTime.objects.get(name="Taipei day")
    assert (created.timezone, created.summary()) == ("Asia/Taipei", "Mon-Fri 09:00-18:00")
    expect(select).to_have_value(str(created.pk))
    expect(select.locator("option:checked")).to_have_text("Taipei day")
    screenshot("staff-form-plus-02-chosen")

    # The pencil edits it in the same pop-up; the select shows the new name.
    with page.expect_popup() as opened:
        page.locator("#change_id_working_time").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert f"/admin/chat-assistant/working-times/{created.pk}/?_popup=1&_to_field=id" in popup.url
    popup.locator("#ca-working-time-dialog").get_by_label("Name").fill("Taipei long day")
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Save", exact=True).click()
    expect(select.locator("option:checked")).to_have_text("Taipei long day")

    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Alice Wong")
    alice.refresh_from_db()
    assert alice.working_time == created


def test_cancel_in_the_staff_forms_pop_up_closes_it_and_creates_nothing(
    logged_in_manager, live_server
):
    page = logged_in_manager
    alice = StaffFactory(name="Alice Wong", email="alice@example.com")
    page.goto(f"{live_server.url}/admin/staff/staff/{alice.pk}/change/")

    with page.expect_popup() as opened:
        page.locator("#add_id_working_time").click()
    popup = opened.value
    popup.wait_for_load_state()
    popup.locator("#ca-working-time-dialog").get_by_label("Name").fill("Never saved")
    # The click closes the window, sometimes before Playwright hears back from it: that is
    # the outcome wanted, and the close event is the assertion.
    with popup.expect_event("close"), contextlib.suppress(PlaywrightError):
        popup.get_by_role("link", name="Cancel").click(no_wait_after=True)

    assert not WorkingTime.objects.exists()
    expect(page.locator("select#id_working_time")).to_have_value("")


def test_the_admin_index_add_link_of_working_times_opens_the_settings_pop_up(
    logged_in_manager, live_server, screenshot
):
    page = logged_in_manager
    page.goto(f"{live_server.url}/admin/")

    page.locator("tr.model-workingtime").get_by_role("link", name="Add").click()

    page.wait_for_url(f"{live_server.url}/admin/chat-assistant/working-times/new/")
    dialog = page.locator("#ca-working-time-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Create the working time")
    dialog.get_by_label("Time zone", exact=True).select_option("Asia/Tokyo")
    dialog.get_by_label("Name").fill("From the index")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Working time “From the index” created.")
    assert WorkingTime.objects.get().name == "From the index"
    screenshot("index-add-lands-on-the-pop-up")
