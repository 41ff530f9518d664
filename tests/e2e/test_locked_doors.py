"""Locked doors in the browser: the login lockout as a manager meets it, and the pages
under the enforced Content-Security-Policy (the autouse ``no_csp_violations`` in
tests/e2e/conftest.py fails any test here on a violation)."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_who_mistypes_too_often_sees_the_lockout_page(
    page, live_server, manager_password, screenshot
):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("manager", "m@example.com", manager_password)
    page.goto(f"{live_server.url}/admin/login/")

    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        page.fill("#id_username", "manager")
        page.fill("#id_password", f"wrong-{attempt}")
        page.click("input[type=submit]")
        expect(page.locator(".errornote")).to_contain_text("Please enter the correct username")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "wrong-again")
    page.click("input[type=submit]")

    expect(page.locator("h1")).to_have_text("Too many failed logins")
    screenshot("locked-out")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", manager_password)
    page.click("input[type=submit]")
    expect(page.locator("h1")).to_have_text("Too many failed logins")  # even the right one


def test_the_admin_and_settings_pages_load_their_scripts_and_styles_under_the_policy(
    logged_in_manager, live_server
):
    page = logged_in_manager
    pages = [
        "/admin/",
        "/admin/chat-assistant/",
        "/admin/chat-assistant/automatic-assignment/",
        "/admin/staff/staff/add/",
        "/admin/assignment/chatsession/",
        "/admin/chat-assistant/reports/coverage/",
        "/admin/chat-assistant/reports/fairness/",
        "/admin/chat-assistant/reports/next-in-line/",
    ]
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        # The admin's stylesheet applied (not refused): the header has its dark band.
        assert page.locator("#header").evaluate("e => getComputedStyle(e).display") != "inline"
