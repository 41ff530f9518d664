"""Staff messages on the webhook (``author: "staff"``) and the first response they record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from assignment import policy
from assignment.models import AssignmentEvent, ChatSession, Message
from staff.models import Staff

pytestmark = pytest.mark.django_db

OPENED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CUSTOMER = {"message_id": "m-1", "customer_id": "c-1", "customer_name": "Ann", "text": "Hi"}


def reply(message_id: str = "r-1", email: str = "alice@example.com", **fields) -> dict:
    return {
        "message_id": message_id,
        "customer_id": "c-1",
        "author": "staff",
        "staff_email": email,
        "text": "Hello, how can I help?",
        **fields,
    }


@pytest.fixture
def open_session(post_message, auto_assign_on) -> ChatSession:
    with time_machine.travel(OPENED_AT, tick=False):
        assert post_message(CUSTOMER).json()["session"]["assignment"] == "assigned"
    return ChatSession.objects.get()


def post_at(post_message, at: datetime, payload: dict):
    with time_machine.travel(at, tick=False):
        return post_message(payload)


def test_a_staff_reply_joins_the_open_session_and_answers_existing(post_message, open_session):
    response = post_at(post_message, OPENED_AT + timedelta(minutes=3), reply())

    assert response.status_code == 201
    assert response.json() == {
        "message_id": "r-1",
        "session": {
            "id": open_session.pk,
            "created": False,
            "status": "open",
            "assignment": "existing",
            "assigned_to": {
                "id": open_session.assigned_staff_id,
                "name": "Alice",
                "email": "alice@example.com",
            },
        },
    }
    message = Message.objects.get(message_id="r-1")
    assert (message.author, message.staff.email, message.session_id) == (
        "staff",
        "alice@example.com",
        open_session.pk,
    )
    assert Message.objects.get(message_id="m-1").author == "customer"


def test_the_first_staff_message_records_the_first_response(post_message, open_session, cast):
    post_at(post_message, OPENED_AT + timedelta(minutes=3), reply("r-1", "bob@example.com"))
    post_at(post_message, OPENED_AT + timedelta(minutes=9), reply("r-2", "alice@example.com"))

    session = ChatSession.objects.get()
    assert session.first_response_at == OPENED_AT + timedelta(minutes=3)
    assert session.first_response_staff == cast["bob"]
    assert session.first_response_time == timedelta(minutes=3)
    assert session.last_staff_message_at == OPENED_AT + timedelta(minutes=9)


def test_the_first_response_is_the_receipt_time_not_the_senders_clock(post_message, open_session):
    sent = "2026-01-05T08:00:00Z"  # a clock an hour behind
    post_at(post_message, OPENED_AT + timedelta(minutes=4), reply(sent_at=sent))

    assert ChatSession.objects.get().first_response_at == OPENED_AT + timedelta(minutes=4)
    assert Message.objects.get(message_id="r-1").sent_at == datetime(2026, 1, 5, 8, tzinfo=UTC)


def test_a_staff_reply_never_counts_as_an_assignment(post_message, open_session, cast):
    def line() -> dict:
        return {m.pk: (m.last_assigned_at, m.open_sessions) for m in Staff.objects.all()}

    before = line()

    post_at(post_message, OPENED_AT + timedelta(minutes=1), reply("r-1", "bob@example.com"))

    assert line() == before
    assert before[cast["alice"].pk] == (OPENED_AT, 1)
    assert AssignmentEvent.objects.count() == 1
    assert ChatSession.objects.get().assigned_staff == cast["alice"]


def test_an_email_is_matched_whatever_its_case(post_message, open_session, cast):
    response = post_at(post_message, OPENED_AT, reply(email="ALICE@Example.com"))

    assert response.status_code == 201
    assert Message.objects.get(message_id="r-1").staff == cast["alice"]


def test_an_unknown_staff_member_is_a_409_and_writes_nothing(post_message, open_session):
    response = post_at(post_message, OPENED_AT, reply(email="nobody@example.com"))

    assert response.status_code == 409
    assert response.json()["details"] == {"staff_email": "Unknown staff member."}
    assert "nobody@example.com" in response.json()["error"]
    assert not Message.objects.filter(message_id="r-1").exists()
    assert ChatSession.objects.get().first_response_at is None


def test_a_staff_message_without_an_open_session_is_a_409_and_creates_none(
    post_message, auto_assign_on
):
    response = post_message(reply())

    assert response.status_code == 409
    assert response.json()["details"] == {"customer_id": "No open session."}
    assert not ChatSession.objects.exists()
    assert not Message.objects.exists()


def test_a_staff_message_after_the_session_closed_is_a_409(post_message, open_session):
    policy.session_close(session=open_session, now=OPENED_AT + timedelta(minutes=1))

    response = post_at(post_message, OPENED_AT + timedelta(minutes=2), reply())

    assert response.status_code == 409
    assert ChatSession.objects.count() == 1
    assert ChatSession.objects.get().first_response_at is None


def test_a_staff_reply_to_a_waiting_session_leaves_it_waiting(post_message, cast):
    post_message(CUSTOMER)  # automatic assignment is off: it waits for a manager

    response = post_message(reply())

    assert response.status_code == 201
    assert response.json()["session"]["assigned_to"] is None
    session = ChatSession.objects.get()
    assert session.assigned_staff is None
    assert session.first_response_staff == cast["alice"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"author": "bot"}, "author"),
        ({"author": 3}, "author"),
        ({"author": "staff"}, "staff_email"),
        ({"author": "staff", "staff_email": None}, "staff_email"),
        ({"author": "staff", "staff_email": "not an email"}, "staff_email"),
        ({"author": "staff", "staff_email": ""}, "staff_email"),
        ({"author": "staff", "staff_email": ["a@example.com"]}, "staff_email"),
        ({"author": "staff", "staff_email": "a" * 250 + "@x.io"}, "staff_email"),
        ({"author": "customer", "staff_email": "alice@example.com"}, "staff_email"),
        ({"staff_email": "alice@example.com"}, "staff_email"),
    ],
)
def test_a_bad_author_or_staff_email_is_a_400_naming_it(post_message, open_session, payload, field):
    response = post_message({"message_id": "r-1", "customer_id": "c-1", **payload})

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Message.objects.filter(message_id="r-1").exists()


def test_author_customer_is_the_default_spelled_out(post_message, open_session):
    response = post_message({"message_id": "m-2", "customer_id": "c-1", "author": "customer"})

    assert response.status_code == 201
    assert Message.objects.get(message_id="m-2").author == "customer"
    assert ChatSession.objects.get().first_response_at is None


def test_a_repeated_staff_message_answers_200_and_writes_nothing(post_message, open_session):
    first = post_at(post_message, OPENED_AT + timedelta(minutes=2), reply())
    again = post_at(
        post_message, OPENED_AT + timedelta(minutes=5), reply(email="Alice@example.com")
    )

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.filter(author="staff").count() == 1
    assert ChatSession.objects.get().last_staff_message_at == OPENED_AT + timedelta(minutes=2)


@pytest.mark.parametrize(
    "changed",
    [
        {"staff_email": "bob@example.com"},
        {"author": "customer", "staff_email": None},
        {"text": "Something else"},
    ],
    ids=["other staff", "customer", "other text"],
)
def test_a_staff_message_id_again_with_other_content_is_a_409(post_message, open_session, changed):
    post_message(reply())

    response = post_message({**reply(), **changed})

    assert response.status_code == 409
    assert response.json()["details"] == {"message_id": "r-1"}
    assert Message.objects.count() == 2


def test_a_customer_message_id_sent_again_as_staff_is_a_409(post_message, open_session):
    response = post_message({**CUSTOMER, "author": "staff", "staff_email": "alice@example.com"})

    assert response.status_code == 409
    assert ChatSession.objects.get().first_response_at is None
