"""Deliveries to a real receiver on 127.0.0.1: bodies, signatures, retries, order, limits.

Every signature is verified with the reference Standard Webhooks library, as a platform
would. ``deliver_all_due`` is ``deliver_events`` without ``--loop``; a test that needs
time to pass hands it a clock.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from assignment import config, idle_sessions, policy, returns
from assignment.models import ChatSession
from events import delivery, safety, services
from events.models import Delivery, Endpoint, Event
from staff.models import Staff
from tests.events.conftest import Answer
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float):
    """A clock ``seconds`` ahead of the real one."""
    return lambda: timezone.now() + timedelta(seconds=seconds)


def verified(received, secret: str) -> dict:
    """The body, after the reference library verified its signature with ``secret``."""
    return Webhook(secret).verify(received.body, received.headers)


def test_an_assignment_reaches_the_endpoint_signed(
    receiver, endpoint, auto_assign_on, cast, post_message
):
    response = post_message({"message_id": "m-1", "customer_id": "c-42", "text": "Hi"})
    session_id = response.json()["session"]["id"]

    done = delivery.deliver_all_due()

    assert (done.attempted, done.delivered) == (1, 1)
    [received] = receiver.requests
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"].startswith("evt_")
    body = verified(received, endpoint.secret)
    alice = cast["alice"]
    assert body["type"] == "session.assigned"
    assert body["data"] == {
        "session": {
            "id": session_id,
            "channel": "web",
            "customer_id": "c-42",
            "status": "open",
            "assigned_to": {"id": alice.pk, "name": "Alice", "email": "alice@example.com"},
        },
        "assignment": {
            "kind": "automatic",
            "reason": "never assigned",
            "candidates": 3,
            "by": None,
        },
    }
    stamp = ChatSession.objects.get(pk=session_id).assigned_at
    assert body["timestamp"] == stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_every_kind_of_change_is_told_in_order(receiver, endpoint, cast, auto_assign_on):
    """queued, assigned from the queue, manual, returned, closed: one session's history."""
    Staff.objects.update(active=False)  # everyone away: the new session waits
    session = ChatSessionFactory(channel="line", customer_id="u-7")
    Staff.objects.update(active=True)
    policy.assign_oldest_waiting()
    manager = get_user_model().objects.create_user("boss")
    policy.session_assign_manually(session=session, staff=cast["carol"], assigned_by=manager)
    Staff.objects.filter(pk=cast["carol"].pk).update(active=False)
    returns.return_to_queue(staff=cast["carol"])
    policy.session_close(session=session)

    delivery.deliver_all_due()

    bodies = [verified(each, endpoint.secret) for each in receiver.requests]
    assert [body["type"] for body in bodies] == [
        "session.queued",
        "session.assigned",
        "session.assigned",
        "session.returned",
        "session.closed",
    ]
    sessions = [body["data"]["session"] for body in bodies]
    assert {(each["id"], each["channel"], each["customer_id"]) for each in sessions} == {
        (session.pk, "line", "u-7")
    }
    assert sessions[0]["assigned_to"] is None
    assert "assignment" not in bodies[0]["data"]
    assert bodies[1]["data"]["assignment"]["kind"] == "queue"
    assert bodies[1]["data"]["assignment"]["reason"].startswith("from the waiting queue; ")
    assert bodies[1]["data"]["session"]["assigned_to"]["name"] == "Alice"
    assert bodies[2]["data"]["assignment"] == {
        "kind": "manual",
        "reason": "manual by boss",
        "candidates": None,
        "by": "boss",
    }
    assert bodies[3]["data"]["session"]["assigned_to"] is None
    carol = cast["carol"]
    assert bodies[3]["data"]["returned_from"] == {
        "id": carol.pk,
        "name": "Carol",
        "email": "carol@example.com",
    }
    assert sessions[4]["status"] == "closed"
    assert sessions[4]["assigned_to"] is None  # it was back in the queue when it closed


def test_close_idle_sessions_tells_who_had_the_session(receiver, endpoint, auto_assign_on, cast):
    session = ChatSessionFactory(created_at=timezone.now() - timedelta(hours=3))
    idle = idle_sessions.idle_sessions(idle_for=timedelta(hours=1))

    assert idle_sessions.close_idle_sessions(idle=idle) == [session.pk]
    delivery.deliver_all_due()

    closed = verified(receiver.requests[-1], endpoint.secret)
    assert closed["type"] == "session.closed"
    assert closed["data"]["session"]["status"] == "closed"
    assert closed["data"]["session"]["assigned_to"]["name"] == "Alice"


def test_a_ping_has_empty_data_and_goes_to_its_endpoint_only(receiver, endpoint):
    other = services.endpoint_add(url=receiver.url + "/other")

    event = services.endpoint_ping(endpoint_id=endpoint.endpoint_id)
    delivery.deliver_all_due()

    [received] = receiver.requests
    assert received.path == "/hooks"
    assert received.headers["webhook-id"] == event.webhook_id
    assert verified(received, endpoint.secret)["data"] == {}
    assert not Delivery.objects.filter(endpoint_id=other.endpoint_id).exists()


def test_a_rolled_back_decision_sends_nothing(receiver, endpoint, auto_assign_on):
    with pytest.raises(RuntimeError), transaction.atomic():
        ChatSessionFactory()
        assert Event.objects.count() == 1  # written, inside the transaction
        raise RuntimeError("the request failed after the decision")

    done = delivery.deliver_all_due()

    assert Event.objects.count() == 0
    assert (done.attempted, receiver.requests) == (0, [])


def test_an_endpoint_gets_only_the_types_it_subscribed_to(receiver, auto_assign_on):
    closes_only = services.endpoint_add(url=receiver.url, event_types=["session.closed"])
    session = ChatSessionFactory()
    policy.session_close(session=session)

    delivery.deliver_all_due()

    assert [verified(each, closes_only.secret)["type"] for each in receiver.requests] == [
        "session.closed"
    ]


def test_a_500_is_retried_later_with_the_same_webhook_id(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=500, body=b"database down"))
    ChatSessionFactory()

    first = delivery.deliver_all_due()
    pending = Delivery.objects.get()

    assert (first.attempted, first.delivered) == (1, 0)
    assert pending.status == Delivery.Status.PENDING
    assert (pending.attempts, pending.last_status_code) == (1, 500)
    assert pending.response_excerpt == "database down"
    assert pending.next_attempt_at > timezone.now()
    assert delivery.deliver_all_due().attempted == 0  # not due yet

    second = delivery.deliver_all_due(clock=later(60))

    assert (second.attempted, second.delivered) == (1, 1)
    assert len({each.headers["webhook-id"] for each in receiver.requests}) == 1
    assert len(receiver.requests) == 2
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_no_answer_in_time_is_a_failed_attempt(receiver, endpoint, auto_assign_on, monkeypatch):
    monkeypatch.setattr(delivery, "ANSWER_LIMIT_SECONDS", 0.5)
    receiver.answer(Answer(delay=3))
    ChatSessionFactory()

    delivery.deliver_all_due()

    pending = Delivery.objects.get()
    assert pending.status == Delivery.Status.PENDING
    assert pending.last_status_code is None
    assert pending.last_error == "no answer within the time limit"


def test_a_refused_connection_is_retried(settings, auto_assign_on, receiver):
    closed_port = receiver.url.replace("/hooks", "")
    receiver.server.server_close()  # nothing listens there any more
    services.endpoint_add(url=closed_port + "/hooks")
    ChatSessionFactory()

    delivery.deliver_all_due()

    pending = Delivery.objects.get()
    assert pending.status == Delivery.Status.PENDING
    assert pending.last_error.startswith("connection failed")
    assert pending.next_attempt_at > timezone.now()


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(receiver, endpoint, auto_assign_on, status):
    receiver.answer(Answer(status=status, headers={"Retry-After": "120"}))
    ChatSessionFactory()
    before = timezone.now()

    delivery.deliver_all_due()

    pending = Delivery.objects.get()
    assert before + timedelta(seconds=119) < pending.next_attempt_at
    assert pending.next_attempt_at < timezone.now() + timedelta(seconds=121)
    assert delivery.deliver_all_due(clock=later(100)).attempted == 0
    assert delivery.deliver_all_due(clock=later(125)).delivered == 1


def test_gone_disables_the_endpoint_and_says_why(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=410))
    ChatSessionFactory()
    ChatSessionFactory()

    delivery.deliver_all_due(clock=later(0))

    disabled = Endpoint.objects.get()
    assert not disabled.active
    assert "410 Gone" in disabled.disabled_reason
    assert len(receiver.requests) == 1  # nothing more is sent to it
    assert delivery.deliver_all_due(clock=later(3600)).attempted == 0

    services.endpoint_activate(endpoint_id=disabled.pk)
    assert delivery.deliver_all_due(clock=later(1)).delivered == 2


def test_a_redirect_is_not_followed(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=302, headers={"Location": receiver.url + "/elsewhere"}))
    ChatSessionFactory()

    delivery.deliver_all_due()

    assert [each.path for each in receiver.requests] == ["/hooks"]
    pending = Delivery.objects.get()
    assert (pending.status, pending.last_status_code) == (Delivery.Status.PENDING, 302)


def test_a_huge_answer_is_read_only_in_part(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(body=b"x" * 5_000_000))
    ChatSessionFactory()

    assert delivery.deliver_all_due().delivered == 1
    assert Delivery.objects.get().response_excerpt == "x" * delivery.EXCERPT_LIMIT


def test_a_later_event_waits_for_the_earlier_one_of_its_session(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=500))
    first = ChatSessionFactory()
    other = ChatSessionFactory()
    policy.session_close(session=first)

    delivery.deliver_all_due()
    # The assignment of the first session failed: its close is held back, the other
    # session's assignment is not.
    sent = [json.loads(each.body) for each in receiver.requests]
    assert [(each["type"], each["data"]["session"]["id"]) for each in sent] == [
        ("session.assigned", first.pk),
        ("session.assigned", other.pk),
    ]

    delivery.deliver_all_due(clock=later(3600))

    sent = [json.loads(each.body) for each in receiver.requests[2:]]
    assert [(each["type"], each["data"]["session"]["id"]) for each in sent] == [
        ("session.assigned", first.pk),
        ("session.closed", first.pk),
    ]


def test_given_up_after_three_days_then_the_next_goes(receiver, endpoint, auto_assign_on):
    receiver.answer(*[Answer(status=500)] * 200)
    session = ChatSessionFactory()
    policy.session_close(session=session)
    start = timezone.now()
    delivery.deliver_all_due()
    elapsed = timedelta(0)
    while Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 0:
        due = Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("id").first()
        elapsed = due.next_attempt_at - start
        delivery.deliver_all_due(clock=lambda due=due: due.next_attempt_at)

    given_up = Delivery.objects.get(status=Delivery.Status.FAILED)
    assert elapsed >= delivery.GIVE_UP_AFTER
    assert given_up.attempts >= 10
    assert len(receiver.requests) == given_up.attempts + 1  # the close went out next
    assert json.loads(receiver.requests[-1].body)["type"] == "session.closed"


def test_five_days_of_failures_disable_the_endpoint(receiver, endpoint, auto_assign_on):
    receiver.answer(*[Answer(status=500)] * 10)
    ChatSessionFactory()
    delivery.deliver_all_due()
    ChatSessionFactory()
    delivery.deliver_all_due(clock=later(4 * 86400))
    assert Endpoint.objects.get().active

    ChatSessionFactory()
    delivery.deliver_all_due(clock=later(5 * 86400 + 60))

    disabled = Endpoint.objects.get()
    assert not disabled.active
    assert "failed for 5 days" in disabled.disabled_reason


def test_a_success_resets_the_failing_clock(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=500))
    ChatSessionFactory()
    delivery.deliver_all_due()
    assert Endpoint.objects.get().failing_since is not None

    delivery.deliver_all_due(clock=later(3600))

    assert Endpoint.objects.get().failing_since is None


def test_after_a_rotation_both_secrets_sign_for_a_day(receiver, endpoint):
    rotated = services.endpoint_rotate(endpoint_id=endpoint.endpoint_id)
    services.endpoint_ping(endpoint_id=endpoint.endpoint_id)
    delivery.deliver_all_due()

    [received] = receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(received, endpoint.secret)["type"] == "ping"
    assert verified(received, rotated.secret)["type"] == "ping"


def test_a_day_after_a_rotation_only_the_new_secret_signs(receiver, endpoint):
    rotated = services.endpoint_rotate(
        endpoint_id=endpoint.endpoint_id, now=timezone.now() - timedelta(hours=24, seconds=1)
    )
    services.endpoint_ping(endpoint_id=endpoint.endpoint_id)
    delivery.deliver_all_due()

    [received] = receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 1
    assert verified(received, rotated.secret)["type"] == "ping"
    with pytest.raises(WebhookVerificationError):
        verified(received, endpoint.secret)


def test_retry_now_makes_a_given_up_delivery_due(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=500))
    ChatSessionFactory()
    delivery.deliver_all_due()
    Delivery.objects.update(status=Delivery.Status.FAILED)

    assert services.deliveries_retry_now(delivery_ids=[Delivery.objects.get().pk]) == 1
    assert delivery.deliver_all_due().delivered == 1


def test_the_secret_is_never_logged(receiver, endpoint, auto_assign_on, caplog):
    receiver.answer(Answer(status=500))
    ChatSessionFactory()
    with caplog.at_level("DEBUG"):
        delivery.deliver_all_due()
        delivery.deliver_all_due(clock=later(3600))

    assert "event delivery" in caplog.text
    assert endpoint.secret not in caplog.text
    assert endpoint.secret.removeprefix("whsec_") not in caplog.text


def test_auto_assign_off_sends_nothing(receiver, endpoint, cast):
    config.auto_assign_set(enabled=False)
    ChatSessionFactory()

    assert delivery.deliver_all_due().attempted == 0


def test_the_loop_delivers_as_events_come_and_stops_when_told(receiver, endpoint, auto_assign_on):
    from events import worker

    stopping = threading.Event()
    done: list[delivery.Round] = []

    def run() -> None:
        try:
            done.append(worker.run_worker(idle_interval=0.05, stopping=stopping))
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    try:
        ChatSessionFactory()
        assert receiver.arrived.wait(20)
    finally:
        stopping.set()
        thread.join(20)

    assert not thread.is_alive()
    assert done[0].delivered == 1
    assert verified(receiver.requests[0], endpoint.secret)["type"] == "session.assigned"


# --- One worker, many deliveries at a time ---------------------------------------------------


def test_deliveries_of_different_sessions_are_sent_side_by_side(
    receiver, endpoint, auto_assign_on, settings
):
    settings.EVENTS_DELIVERY_CONCURRENCY = 4
    for _ in range(5):  # the first goes alone (it probes the endpoint), four follow at once
        ChatSessionFactory()
    held = threading.Event()
    receiver.answer(Answer(), *[Answer(hold=held)] * 4)
    seen_while_held: list[int] = []

    def release_when_four_wait() -> None:
        for _ in range(100):  # at most 10 s
            if len(receiver.requests) == 5:
                break
            threading.Event().wait(0.1)
        seen_while_held.append(len(receiver.requests))
        held.set()

    watcher = threading.Thread(target=release_when_four_wait)
    watcher.start()
    done = delivery.deliver_all_due()
    watcher.join()

    assert seen_while_held == [5]  # four were waiting for an answer at the same time
    assert (done.attempted, done.delivered) == (5, 5)
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 5


def test_one_session_s_events_still_go_one_after_the_other(receiver, endpoint, auto_assign_on):
    sessions = [ChatSessionFactory() for _ in range(6)]
    for session in sessions:
        policy.session_close(session=session)

    delivery.deliver_all_due()

    sent = [json.loads(each.body) for each in receiver.requests]
    for session in sessions:
        types = [each["type"] for each in sent if each["data"]["session"]["id"] == session.pk]
        assert types == ["session.assigned", "session.closed"]


def test_one_connection_carries_many_deliveries(receiver, endpoint, auto_assign_on, settings):
    settings.EVENTS_DELIVERY_CONCURRENCY = 1
    for _ in range(12):
        ChatSessionFactory()

    assert delivery.deliver_all_due().delivered == 12

    assert len({each.connection for each in receiver.requests}) == 1


def test_two_host_names_on_one_address_never_share_a_client():
    # A delivery connects to the address it checked; a kept-alive TLS connection is only
    # good for the name its certificate was checked for, so each host has its own client.
    def target(host: str) -> safety.Target:
        return safety.Target(
            url=f"https://{host}/hooks", host=host, port=443, address="203.0.113.7"
        )

    with delivery.Dispatcher(senders=1) as dispatcher:
        shop = dispatcher.client_for(target("shop.example"))
        other = dispatcher.client_for(target("other.example"))

        assert shop is not other
        assert dispatcher.client_for(target("shop.example")) is shop


def test_an_endpoint_that_is_gone_gets_one_request_of_a_batch(receiver, endpoint, auto_assign_on):
    receiver.answer(Answer(status=410))
    for _ in range(8):
        ChatSessionFactory()

    done = delivery.deliver_all_due()

    assert (done.attempted, len(receiver.requests)) == (1, 1)
    assert not Endpoint.objects.get().active
    unsent = Delivery.objects.exclude(pk=Delivery.objects.order_by("pk").first().pk)
    assert {(each.attempts, each.claim_token, each.claimed_until) for each in unsent} == {
        (0, "", None)
    }


def test_statements_per_batch_do_not_grow_with_the_batch(
    receiver, endpoint, auto_assign_on, settings
):
    settings.EVENTS_DELIVERY_CONCURRENCY = 8  # a batch holds up to 32
    statements = {}
    with delivery.Dispatcher() as dispatcher:
        for size in (3, 30):
            for _ in range(size):
                ChatSessionFactory()
            delivery.fan_out(now=timezone.now())
            with CaptureQueriesContext(connection) as captured:
                done = delivery.run_round(dispatcher)
            assert done.delivered == size
            statements[size] = [query["sql"][:60] for query in captured]

    # Fan-out, claim, load, record (one executemany) and the endpoint's health: as many
    # statements for 30 deliveries as for 3.
    assert len(statements[3]) == len(statements[30]) <= 16, statements
