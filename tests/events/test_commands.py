"""``event_endpoint`` and ``deliver_events``, through ``call_command``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from standardwebhooks import Webhook

from events.models import Endpoint, Event

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True


def test_add_prints_id_url_secret_and_events_as_json():
    printed = json.loads(run("event_endpoint", "add", "http://127.0.0.1:9/in", "--json"))

    endpoint = Endpoint.objects.get()
    assert printed == {
        "id": endpoint.pk,
        "url": "http://127.0.0.1:9/in",
        "secret": endpoint.secret,
        "events": ["session.assigned", "session.queued", "session.returned", "session.closed"],
    }
    assert printed["secret"].startswith("whsec_")
    Webhook(printed["secret"])  # a secret any Standard Webhooks library takes


def test_add_with_types_and_a_given_secret():
    printed = json.loads(
        run(
            "event_endpoint",
            "add",
            "http://127.0.0.1:9/in",
            "--events",
            "session.closed,session.assigned",
            "--secret",
            SECRET,
            "--json",
        )
    )
    assert printed["events"] == ["session.assigned", "session.closed"]
    assert printed["secret"] == SECRET


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "session.opened"], "Unknown event type"),
        (["--events", ","], "names no event type"),
        (["--secret", "not-a-secret"], "whsec_"),
        (["--secret", "whsec_!!!"], "whsec_"),
    ],
)
def test_add_refuses_bad_options_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run("event_endpoint", "add", "http://127.0.0.1:9/in", *args)
    assert not Endpoint.objects.exists()


def test_add_refuses_an_unsafe_url(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(CommandError, match="Only https://"):
        run("event_endpoint", "add", "http://example.com/in")
    assert not Endpoint.objects.exists()


def test_list_never_shows_a_secret():
    created = json.loads(run("event_endpoint", "add", "http://127.0.0.1:9/in", "--json"))

    listed = run("event_endpoint", "list", "--json")
    plain = run("event_endpoint", "list")

    assert json.loads(listed) == [
        {
            "id": created["id"],
            "url": "http://127.0.0.1:9/in",
            "events": created["events"],
            "active": True,
            "disabled_reason": "",
        }
    ]
    assert created["secret"] not in listed + plain


def test_rotate_prints_the_new_secret_and_keeps_the_old_one_a_day():
    created = json.loads(run("event_endpoint", "add", "http://127.0.0.1:9/in", "--json"))

    printed = run("event_endpoint", "rotate", str(created["id"]), "--secret", SECRET)

    endpoint = Endpoint.objects.get()
    assert SECRET in printed
    assert (endpoint.secret, endpoint.previous_secret) == (SECRET, created["secret"])


def test_ping_queues_a_test_event_and_remove_deletes():
    created = json.loads(run("event_endpoint", "add", "http://127.0.0.1:9/in", "--json"))

    assert "Queued ping evt_" in run("event_endpoint", "ping", str(created["id"]))
    assert Event.objects.get().type == "ping"

    run("event_endpoint", "remove", str(created["id"]))
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("action", ["remove", "ping", "rotate"])
def test_an_unknown_id_is_an_error(action):
    with pytest.raises(CommandError, match="No endpoint has the id 999"):
        run("event_endpoint", action, "999")


def test_deliver_events_with_nothing_due():
    assert json.loads(run("deliver_events", "--json")) == {
        "fanned_out": 0,
        "attempted": 0,
        "delivered": 0,
    }


def test_deliver_events_refuses_a_bad_interval():
    with pytest.raises(CommandError, match="--interval"):
        run("deliver_events", "--loop", "--interval", "0")


@pytest.mark.parametrize("concurrency", ["0", "65", "-1"])
def test_deliver_events_refuses_a_concurrency_out_of_range(concurrency):
    with pytest.raises(CommandError, match="--concurrency .* must be between 1 and 64"):
        run("deliver_events", f"--concurrency={concurrency}")
