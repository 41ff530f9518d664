"""The endpoint admin for store managers, through the test client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from events import delivery, services
from events.models import Delivery, Endpoint, Event
from tests.events.conftest import Answer
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/events/endpoint/add/"


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True


def shown_secret(html: str) -> str:
    return re.search(r'id="endpoint-secret">(whsec_[A-Za-z0-9+/=]+)<', html).group(1)


def test_creation_shows_the_secret_once(admin_client):
    response = admin_client.post(
        ADD_URL, {"url": "http://127.0.0.1:9/in", "event_types": ["session.closed"]}
    )

    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert shown_secret(response.content.decode()) == endpoint.secret
    assert endpoint.event_types == ["session.closed"]
    assert "no-store" in response["Cache-Control"]
    for page in (
        reverse("admin:events_endpoint_change", args=[endpoint.pk]),
        reverse("admin:events_endpoint_changelist"),
    ):
        answer = admin_client.get(page)
        assert answer.status_code == 200
        assert endpoint.secret not in answer.content.decode()


def test_no_types_ticked_means_all(admin_client):
    admin_client.post(ADD_URL, {"url": "http://127.0.0.1:9/in"})
    assert len(Endpoint.objects.get().event_types) == 4


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://127.0.0.1:9/in", "Only https://"), ("https://10.0.0.1/", "private address")],
)
def test_an_unsafe_url_is_refused_on_the_form(admin_client, settings, url, message):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False

    response = admin_client.post(ADD_URL, {"url": url})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"url": ""}, {"url": "x" * 3000}, {"url": "http://127.0.0.1/", "event_types": ["nope"]}],
)
def test_bad_input_is_a_form_error(admin_client, data):
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert not Endpoint.objects.exists()


def test_rotate_shows_the_new_secret(admin_client):
    created = services.endpoint_add(url="http://127.0.0.1:9/in")
    url = reverse("admin:events_endpoint_rotate", args=[created.endpoint_id])

    assert admin_client.get(url).status_code == 302  # only a POST rotates
    response = admin_client.post(url)

    endpoint = Endpoint.objects.get()
    assert shown_secret(response.content.decode()) == endpoint.secret
    assert endpoint.previous_secret == created.secret


def test_send_test_event_queues_a_ping(admin_client):
    created = services.endpoint_add(url="http://127.0.0.1:9/in")

    response = admin_client.post(
        reverse("admin:events_endpoint_ping", args=[created.endpoint_id]), follow=True
    )

    event = Event.objects.get()
    assert event.type == "ping"
    assert f"Test event {event.webhook_id} queued" in response.content.decode()


def test_a_disabled_endpoint_says_why_and_refuses_a_ping(admin_client):
    created = services.endpoint_add(url="http://127.0.0.1:9/in")
    Endpoint.objects.update(active=False, disabled_reason="Disabled: it answered 410 Gone.")

    response = admin_client.post(
        reverse("admin:events_endpoint_ping", args=[created.endpoint_id]), follow=True
    )

    assert "it answered 410 Gone" in response.content.decode()
    assert "activate it first" in response.content.decode()
    assert not Event.objects.exists()


@pytest.mark.parametrize("name", ["events_endpoint_ping", "events_endpoint_rotate"])
def test_an_unknown_endpoint_is_not_found(admin_client, name):
    assert admin_client.post(reverse(f"admin:{name}", args=[999])).status_code == 404


def test_reactivating_clears_the_reason(admin_client):
    created = services.endpoint_add(url="http://127.0.0.1:9/in")
    Endpoint.objects.update(active=False, disabled_reason="answered 410 Gone")

    admin_client.post(
        reverse("admin:events_endpoint_change", args=[created.endpoint_id]),
        {"url": "http://127.0.0.1:9/in", "event_types": ["session.closed"], "active": "on"},
    )

    endpoint = Endpoint.objects.get()
    assert (endpoint.active, endpoint.disabled_reason) == (True, "")


@pytest.mark.django_db(transaction=True)
def test_the_delivery_log_and_retry_now(admin_client, receiver, auto_assign_on):
    created = services.endpoint_add(url=receiver.url)
    receiver.answer(Answer(status=500, body=b"upstream broke"))
    session = ChatSessionFactory()
    delivery.deliver_all_due()
    log = (
        reverse("admin:events_delivery_changelist") + f"?endpoint__id__exact={created.endpoint_id}"
    )

    page = admin_client.get(log).content.decode()

    assert "session.assigned" in page
    assert f"#{session.pk}" in page
    assert "upstream broke" in page
    assert "500" in page
    pending = Delivery.objects.get()
    admin_client.post(log, {"action": "retry_now", "_selected_action": [pending.pk]}, follow=True)
    assert delivery.deliver_all_due().delivered == 1
    detail = admin_client.get(reverse("admin:events_delivery_change", args=[pending.pk]))
    assert detail.status_code == 200
