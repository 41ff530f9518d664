"""The webhook's decisions where the contract was silent (docs/API.md, "Edge cases"):
encodings and byte order marks, duplicate keys, +json media types, sent_at's range and
offsets. Each is a clear 400 or 415 that writes nothing, or an accepted message."""

from __future__ import annotations

import json

import pytest

from assignment.models import ChatSession, Message

pytestmark = pytest.mark.django_db

NEW = {"message_id": "m-1", "customer_id": "c-1", "text": "Hello"}


def nothing_written() -> bool:
    return not Message.objects.exists() and not ChatSession.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_body_in_utf_16_or_32_is_a_400(post_message, auto_assign_on, encoding):
    response = post_message(json.dumps(NEW).encode(encoding))

    assert response.status_code == 400
    assert response.json()["error"] in (
        "The body must be UTF-8 JSON (not UTF-16 or UTF-32).",
        "The body is not valid JSON.",  # without a BOM some are valid UTF-8, but not JSON
    )
    assert nothing_written()


def test_a_utf_8_byte_order_mark_is_a_400(post_message, auto_assign_on):
    response = post_message(b"\xef\xbb\xbf" + json.dumps(NEW).encode())

    assert response.status_code == 400
    assert response.json()["error"] == "The body must be UTF-8 JSON without a byte order mark."
    assert nothing_written()


def test_utf_8_text_beyond_ascii_is_accepted(post_message, auto_assign_on):
    response = post_message({**NEW, "text": "你好 ☕ 👋"})

    assert response.status_code == 201
    assert Message.objects.get().text == "你好 ☕ 👋"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"message_id": "m-1", "customer_id": "c-1", "text": "a", "text": "b"}', "text"),
        (b'{"message_id": "m-1", "message_id": "m-2", "customer_id": "c-1"}', "message_id"),
        (b'{"message_id": "m-1", "customer_id": "c-1", "extra": {"k": 1, "k": 2}}', "k"),
    ],
)
def test_a_key_twice_in_one_object_is_a_400_naming_it(post_message, auto_assign_on, body, key):
    response = post_message(body)

    assert response.status_code == 400
    assert response.json()["details"] == {key: "Appears more than once."}
    assert nothing_written()


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.chat-platform+json",
        "application/merge-patch+json",
    ],
)
def test_json_and_plus_json_media_types_are_accepted(post_message, auto_assign_on, content_type):
    assert post_message(NEW, content_type=content_type).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    ["application/+json", "text/plain+json", "application/jsonx", "application/json+xml", "json"],
)
def test_other_types_that_mention_json_are_a_415(post_message, auto_assign_on, content_type):
    assert post_message(NEW, content_type=content_type).status_code == 415
    assert nothing_written()


@pytest.mark.parametrize(
    "sent_at",
    [
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:30:00+01:00",  # would overflow when converted to UTC
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_sent_at_outside_2000_to_2100_is_a_400(post_message, auto_assign_on, sent_at):
    response = post_message({**NEW, "sent_at": sent_at})

    assert response.status_code == 400
    assert response.json()["details"] == {"sent_at": "Must be between 2000-01-01 and 2100-01-01."}
    assert nothing_written()


@pytest.mark.parametrize(
    "sent_at", ["2026-01-01T09:00:00+05:30:15", "2026-01-01T09:00:00-00:00:01"]
)
def test_sent_at_with_a_seconds_offset_is_a_400(post_message, auto_assign_on, sent_at):
    response = post_message({**NEW, "sent_at": sent_at})

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"sent_at"}
    assert nothing_written()


@pytest.mark.parametrize(
    ("sent_at", "stored"),
    [
        ("2026-01-01T09:00:00+05:30", "2026-01-01T03:30:00+00:00"),
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00+00:00"),
        ("2099-12-31T23:59:59.999999Z", "2099-12-31T23:59:59.999999+00:00"),
    ],
)
def test_sent_at_within_the_range_with_a_minutes_offset_is_kept_as_an_instant(
    post_message, auto_assign_on, sent_at, stored
):
    response = post_message({**NEW, "sent_at": sent_at})

    assert response.status_code == 201
    assert Message.objects.get().sent_at.isoformat() == stored
