"""The webhook as docs/API.md describes it: every status, the error order, idempotency."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from assignment.models import AssignmentEvent, ChatSession, Message
from tests.conftest import TEST_SECRET, WEBHOOK_URL, sign_headers

pytestmark = pytest.mark.django_db

NEW = {"message_id": "m-1", "customer_id": "c-1", "customer_name": "Ann", "text": "Hello"}


def nothing_written() -> bool:
    return not Message.objects.exists() and not ChatSession.objects.exists()


# --- Success -------------------------------------------------------------------------------


def test_new_customer_gets_a_session_assigned_to_the_first_staff(post_message, auto_assign_on):
    response = post_message(NEW)

    assert response.status_code == 201
    session = ChatSession.objects.get()
    assert response.json() == {
        "message_id": "m-1",
        "session": {
            "id": session.pk,
            "created": True,
            "status": "open",
            "assignment": "assigned",
            "assigned_to": {
                "id": session.assigned_staff_id,
                "name": "Alice",
                "email": "alice@example.com",
            },
        },
    }
    assert session.customer_name == "Ann"
    assert session.channel == "web"
    message = Message.objects.get()
    assert (message.text, message.sent_at) == ("Hello", None)


def test_follow_up_message_joins_the_open_session_and_keeps_its_staff(
    post_message, auto_assign_on, cast
):
    first = post_message(NEW).json()
    response = post_message({"message_id": "m-2", "customer_id": "c-1", "text": "Still there?"})

    assert response.status_code == 201
    body = response.json()
    assert body["session"]["id"] == first["session"]["id"]
    assert body["session"]["created"] is False
    assert body["session"]["assignment"] == "existing"
    assert body["session"]["assigned_to"]["email"] == "alice@example.com"
    assert ChatSession.objects.count() == 1
    assert Message.objects.count() == 2
    # Joining is not an assignment: nobody's place in line moves.
    assert AssignmentEvent.objects.count() == 1
    cast["alice"].refresh_from_db()
    assert cast["alice"].open_sessions == 1


def test_same_customer_id_on_another_channel_is_another_session(post_message, auto_assign_on):
    post_message(NEW)
    response = post_message({"message_id": "m-2", "customer_id": "c-1", "channel": "line"})

    body = response.json()
    assert body["session"]["created"] is True
    assert body["session"]["assigned_to"]["email"] == "bob@example.com"


def test_message_after_the_session_closed_opens_a_new_one(post_message, auto_assign_on):
    from assignment.policy import session_close

    post_message(NEW)
    session_close(session=ChatSession.objects.get())
    response = post_message({"message_id": "m-2", "customer_id": "c-1"})

    assert response.json()["session"]["created"] is True
    assert ChatSession.objects.filter(status="open").count() == 1
    assert ChatSession.objects.count() == 2


def test_toggle_off_leaves_the_session_for_a_manager(post_message, cast):
    response = post_message(NEW)

    assert response.status_code == 201
    assert response.json()["session"]["assignment"] == "manual"
    assert response.json()["session"]["assigned_to"] is None
    assert ChatSession.objects.get().assigned_staff is None


def test_nobody_on_duty_queues_the_session(post_message, auto_assign_on, cast):
    for member in cast.values():
        member.active = False
        member.save()

    response = post_message(NEW)

    assert response.json()["session"]["assignment"] == "queued"
    assert response.json()["session"]["assigned_to"] is None


def test_sent_at_is_stored_as_an_instant(post_message, auto_assign_on):
    post_message({**NEW, "sent_at": "2026-03-29T09:30:00+08:00"})

    assert Message.objects.get().sent_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_unknown_fields_are_ignored(post_message, auto_assign_on):
    assert post_message({**NEW, "priority": "high", "nested": {"a": 1}}).status_code == 201


# --- Redelivery ----------------------------------------------------------------------------


def test_redelivery_answers_200_with_the_first_body_and_writes_nothing(
    post_message, auto_assign_on
):
    first = post_message(NEW)
    post_message({"message_id": "m-2", "customer_id": "c-1"})  # the session moves on

    again = post_message(NEW)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.count() == 2
    assert AssignmentEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "repeat"),
    [
        ({"channel": "web"}, {}),
        ({"text": ""}, {}),
        ({"customer_name": None}, {}),
        ({"text": None, "channel": None}, {}),
        ({"sent_at": "2026-01-01T10:00:00+02:00"}, {"sent_at": "2026-01-01T08:00:00Z"}),
        ({"sent_at": "2026-01-01T08:00:00Z"}, {"sent_at": "2026-01-01T08:00:00.000+00:00"}),
    ],
)
def test_same_content_after_defaults_is_a_repeat(post_message, auto_assign_on, first, repeat):
    base = {"message_id": "m-1", "customer_id": "c-1"}
    assert post_message({**base, **first}).status_code == 201
    assert post_message({**base, **repeat}).status_code == 200


@pytest.mark.parametrize(
    "changed",
    [
        {"text": "Other"},
        {"customer_id": "c-2"},
        {"channel": "line"},
        {"customer_name": "Bea"},
        {"sent_at": "2026-01-01T08:00:00Z"},
    ],
)
def test_same_message_id_with_other_content_is_a_409(post_message, auto_assign_on, changed):
    post_message(NEW)

    response = post_message({**NEW, **changed})

    assert response.status_code == 409
    assert response.json()["error"]
    assert response.json()["details"] == {"message_id": "m-1"}
    assert Message.objects.count() == 1
    assert ChatSession.objects.count() == 1


def test_omitted_sent_at_matches_only_an_omitted_one(post_message, auto_assign_on):
    post_message({**NEW, "sent_at": "2026-01-01T08:00:00Z"})

    assert post_message(NEW).status_code == 409


# --- Validation (400) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer_id": "c"}, "message_id"),
        ({"message_id": "m"}, "customer_id"),
        ({"message_id": None, "customer_id": "c"}, "message_id"),
        ({"message_id": "", "customer_id": "c"}, "message_id"),
        ({"message_id": "m" * 129, "customer_id": "c"}, "message_id"),
        ({"message_id": 5, "customer_id": "c"}, "message_id"),
        ({"message_id": "m", "customer_id": "c" * 129}, "customer_id"),
        ({"message_id": "m", "customer_id": ["c"]}, "customer_id"),
        ({"message_id": "m", "customer_id": "c", "channel": "Web"}, "channel"),
        ({"message_id": "m", "customer_id": "c", "channel": ""}, "channel"),
        ({"message_id": "m", "customer_id": "c", "channel": "a" * 33}, "channel"),
        ({"message_id": "m", "customer_id": "c", "channel": "we b"}, "channel"),
        # A trailing newline: `$` in a re.match would let it through (fullmatch does not).
        ({"message_id": "m", "customer_id": "c", "channel": "web\n"}, "channel"),
        ({"message_id": "m", "customer_id": "c", "channel": "\nweb"}, "channel"),
        ({"message_id": "m", "customer_id": "c", "customer_name": "n" * 201}, "customer_name"),
        ({"message_id": "m", "customer_id": "c", "text": "t" * 10_001}, "text"),
        ({"message_id": "m", "customer_id": "c", "text": 12}, "text"),
        ({"message_id": "m", "customer_id": "c", "sent_at": "2026-01-01T08:00:00"}, "sent_at"),
        ({"message_id": "m", "customer_id": "c", "sent_at": "yesterday"}, "sent_at"),
        ({"message_id": "m", "customer_id": "c", "sent_at": 1700000000}, "sent_at"),
        ({"message_id": "m", "customer_id": "c", "text": "a\u0000b"}, "text"),
        ({"message_id": "m\u0000", "customer_id": "c"}, "message_id"),
    ],
)
def test_a_broken_field_is_a_400_naming_it(post_message, auto_assign_on, payload, field):
    response = post_message(payload)

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert nothing_written()


def test_every_broken_field_is_named(post_message, auto_assign_on):
    response = post_message({"customer_id": 1, "channel": "BAD", "text": 2})

    assert set(response.json()["details"]) == {"message_id", "customer_id", "channel", "text"}


def test_lone_surrogate_is_a_400(post_message, auto_assign_on):
    body = b'{"message_id": "m-1", "customer_id": "c-1", "text": "\\ud800 broken"}'

    response = post_message(body)

    assert response.status_code == 400
    assert "text" in response.json()["details"]
    assert nothing_written()


def test_limits_are_inclusive(post_message, auto_assign_on):
    payload = {
        "message_id": "m" * 128,
        "customer_id": "c" * 128,
        "channel": "a" * 32,
        "customer_name": "n" * 200,
        "text": "t" * 10_000,
    }
    assert post_message(payload).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe{}",
        b'{"message_id": "m", "customer_id": NaN}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_body_that_is_not_json_is_a_400(post_message, auto_assign_on, body):
    response = post_message(body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert nothing_written()


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_a_400(post_message, auto_assign_on, body):
    assert post_message(body).status_code == 400


# --- Transport errors ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_a_405(client: Client, method):
    response = getattr(client, method)(WEBHOOK_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]


@pytest.mark.parametrize(
    "secret", ["", "not-a-secret", "whsec_", "whsec_!!!notbase64", TEST_SECRET + "\n"]
)
def test_webhook_without_a_valid_secret_answers_503(post_message, secret):
    with override_settings(WEBHOOK_SECRET=secret):
        response = post_message(NEW)

    assert response.status_code == 503
    assert "configured" in response.json()["error"]
    assert response["Retry-After"]
    assert nothing_written()


def test_body_over_64_kib_is_a_413(post_message, auto_assign_on):
    body = json.dumps({**NEW, "padding": "x" * 65_536}).encode()

    response = post_message(body)

    assert response.status_code == 413
    assert nothing_written()


def test_body_of_exactly_64_kib_is_accepted(post_message, auto_assign_on):
    body = json.dumps({**NEW, "padding": ""}).encode()
    body = body[:-2] + b"x" * (65_536 - len(body)) + b'"}'
    assert len(body) == 65_536

    assert post_message(body).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_WEBHOOK_SIGNATURE": "v1,AAAA"},
        {"HTTP_WEBHOOK_SIGNATURE": "v1,not base64!"},
        {"HTTP_WEBHOOK_SIGNATURE": "garbage"},
        {"HTTP_WEBHOOK_SIGNATURE": ""},
        {"HTTP_WEBHOOK_SIGNATURE": "v2,c2lnbmF0dXJl"},
        {"HTTP_WEBHOOK_ID": ""},
        {"HTTP_WEBHOOK_ID": "another-id"},
        {"HTTP_WEBHOOK_TIMESTAMP": ""},
        {"HTTP_WEBHOOK_TIMESTAMP": "soon"},
        {"HTTP_WEBHOOK_TIMESTAMP": "1e9"},
        {"HTTP_WEBHOOK_TIMESTAMP": "nan"},
        {"HTTP_WEBHOOK_TIMESTAMP": "-5"},
        {"HTTP_WEBHOOK_TIMESTAMP": "9" * 40},
    ],
)
def test_bad_signature_headers_are_a_401(post_message, auto_assign_on, headers):
    response = post_message(NEW, **headers)

    assert response.status_code == 401
    assert response.json()["error"]
    assert nothing_written()


def test_missing_signature_headers_are_a_401(client, auto_assign_on):
    response = client.post(WEBHOOK_URL, data=NEW, content_type="application/json")

    assert response.status_code == 401


def test_signature_of_another_body_is_a_401(client, auto_assign_on):
    headers = sign_headers(json.dumps({**NEW, "text": "other"}).encode())

    response = client.post(WEBHOOK_URL, data=NEW, content_type="application/json", **headers)

    assert response.status_code == 401


@pytest.mark.parametrize(("offset", "status"), [(-301, 401), (-290, 201), (290, 201), (301, 401)])
def test_timestamp_tolerance_is_five_minutes_either_way(client, auto_assign_on, offset, status):
    body = json.dumps(NEW).encode()
    headers = sign_headers(body, timestamp=int(time.time()) + offset)

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)

    assert response.status_code == status


@pytest.mark.parametrize("suffix", ["\n", " ", "\t"])
def test_a_timestamp_with_anything_after_its_digits_is_a_401(client, auto_assign_on, suffix):
    """The signature covers the timestamp as sent; "1700000000\n" is not Unix seconds
    (a `$` in re.match would take it, and the int() of it)."""
    body = json.dumps(NEW).encode()
    headers = sign_headers(body)
    headers["HTTP_WEBHOOK_TIMESTAMP"] += suffix

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json()["error"] == "webhook-timestamp must be Unix seconds."
    assert nothing_written()


def test_one_valid_signature_among_several_is_enough(client, auto_assign_on):
    body = json.dumps(NEW).encode()
    headers = sign_headers(body)
    headers["HTTP_WEBHOOK_SIGNATURE"] = f"v1,AAAA v1a,xyz {headers['HTTP_WEBHOOK_SIGNATURE']}"

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)

    assert response.status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_content_type_not_json_is_a_415(post_message, auto_assign_on, content_type):
    response = post_message(NEW, content_type=content_type)

    assert response.status_code == 415
    assert nothing_written()


def test_json_content_type_with_charset_is_accepted(post_message, auto_assign_on):
    assert post_message(NEW, content_type="application/json; charset=utf-8").status_code == 201


# --- Error order: 405, 503 (secret), 413, 401, 415, 400, 409, 503 (database) -----------------


def test_405_comes_before_an_unconfigured_secret(client):
    with override_settings(WEBHOOK_SECRET=""):
        assert client.get(WEBHOOK_URL).status_code == 405


def test_unconfigured_secret_comes_before_413(post_message):
    with override_settings(WEBHOOK_SECRET=""):
        assert post_message(b"x" * 70_000).status_code == 503


def test_413_comes_before_401(client):
    response = client.post(WEBHOOK_URL, data=b"x" * 70_000, content_type="text/plain")

    assert response.status_code == 413


def test_401_comes_before_415_and_400(client):
    response = client.post(WEBHOOK_URL, data=b"not json", content_type="text/plain")

    assert response.status_code == 401


def test_415_comes_before_400(post_message):
    assert post_message(b"not json", content_type="text/plain").status_code == 415


def test_400_comes_before_409(post_message, auto_assign_on):
    post_message(NEW)

    assert post_message({**NEW, "channel": "BAD"}).status_code == 400


def test_database_unavailable_is_a_503_with_retry_after(post_message, auto_assign_on, monkeypatch):
    def unavailable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("assignment.views.ingest_message", unavailable)

    response = post_message(NEW)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]


def test_409_comes_before_database_503(post_message, auto_assign_on):
    post_message(NEW)

    assert post_message({**NEW, "text": "changed"}).status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_be_reached_is_a_503(post_message, auto_assign_on):
    """Not a mock: the connection really fails (nothing listens on port 1)."""
    from django.db import connection

    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = post_message(NEW)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database" in response.json()["error"]
    assert nothing_written()
