"""A manager subscribes the chat platform in the admin, in a real browser: the secret is
shown once, a test event is queued and delivered to a real receiver, and the log shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from events import delivery
from events.models import Endpoint
from tests.events.conftest import Answer, Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_manager_adds_an_endpoint_and_sends_a_test_event(
    logged_in_manager, live_server, receiver, screenshot
):
    page = logged_in_manager
    page.goto(f"{live_server.url}/admin/events/endpoint/add/")
    page.fill("#id_url", "not a url")
    page.click("input[name=_save]")
    # expect() waits for the answer's page; a bare count() may read the form before it.
    expect(page.locator(".errorlist").first).to_be_visible()
    screenshot("01-bad-url-refused")

    page.fill("#id_url", receiver.url)
    page.get_by_label("Session assigned").check()
    page.get_by_label("Session closed").check()
    page.click("input[name=_save]")
    secret = page.locator("#endpoint-secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret)
    screenshot("02-secret-shown-once")

    page.get_by_role("link", name="Done").click()
    assert secret not in page.content()
    page.click("#send-test-event")
    assert page.locator(".messagelist").inner_text().startswith("Test event evt_")
    screenshot("03-test-event-queued")

    receiver.answer(Answer(status=500, body=b"try later"))
    delivery.deliver_all_due()
    page.get_by_role("link", name="Delivery log").first.click()
    row = page.locator("#result_list tbody tr").first
    assert "ping" in row.inner_text()
    assert "500" in row.inner_text()
    assert "try later" in row.inner_text()
    screenshot("04-delivery-log")

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "retry_now")
    page.click("button[name=index]")
    assert "due now" in page.locator(".messagelist").inner_text()
    assert delivery.deliver_all_due().delivered == 1
    assert Webhook(secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
    assert Endpoint.objects.get().event_types == ["session.assigned", "session.closed"]

    page.goto(f"{live_server.url}/admin/events/endpoint/{Endpoint.objects.get().pk}/change/")
    page.click("#rotate-secret")
    rotated = page.locator("#endpoint-secret").inner_text()
    assert rotated != secret
    screenshot("05-secret-rotated")
