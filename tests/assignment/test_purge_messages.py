"""purge_messages: customers' text and names erased after the retention period, and
nothing else (ids, digests, times, sessions, assignments, counters stay)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from assignment import policy
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import AssignmentEvent, ChatSession, Message
from staff.models import Staff

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_messages", *args, stdout=out)
    return out.getvalue()


def deliver(message_id: str, customer: str, *, days_ago: float, text: str = "my address is"):
    received = timezone.now() - timedelta(days=days_ago)
    return ingest_message(
        incoming=IncomingMessage(
            message_id=message_id, customer_id=customer, customer_name="Ms Customer", text=text
        ),
        now=received,
    )


@pytest.fixture
def history(cast, auto_assign_on):
    """An old conversation (closed 100 days ago), an old message of a still open one, and
    recent messages."""
    old = deliver("old-1", "c-old", days_ago=120)
    deliver("old-2", "c-old", days_ago=110)
    policy.session_close(
        session=ChatSession.objects.get(pk=old.session_id),
        now=timezone.now() - timedelta(days=100),
    )
    deliver("open-old", "c-open", days_ago=95)
    deliver("open-new", "c-open", days_ago=1)
    deliver("recent", "c-recent", days_ago=10)
    return old.session_id


def snapshot_of_what_stays():
    return (
        list(Message.objects.values_list("message_id", "content_digest", "received_at", "session")),
        list(ChatSession.objects.values_list("id", "status", "assigned_staff", "closed_at")),
        list(AssignmentEvent.objects.values_list("id", "staff", "created_at")),
        list(Staff.objects.values_list("id", "open_sessions", "last_assigned_at")),
    )


def test_purge_erases_old_text_and_names_and_keeps_everything_else(history):
    before = snapshot_of_what_stays()

    output = run("--older-than", "90d")

    assert output.startswith("Erased the text and customer name of 3 messages received before ")
    assert "and the customer name of 1 sessions closed before then." in output
    erased = Message.objects.filter(text="", customer_name="")
    assert set(erased.values_list("message_id", flat=True)) == {"old-1", "old-2", "open-old"}
    kept = Message.objects.exclude(text="")
    assert set(kept.values_list("message_id", flat=True)) == {"open-new", "recent"}
    assert ChatSession.objects.get(pk=history).customer_name == ""
    assert ChatSession.objects.get(customer_id="c-open").customer_name == "Ms Customer"
    assert snapshot_of_what_stays() == before


def test_a_redelivery_of_a_purged_message_is_still_a_repeat(history):
    first = Message.objects.get(message_id="recent").response
    run("--older-than", "5d")

    repeat = deliver("recent", "c-recent", days_ago=0)

    assert repeat.created is False and repeat.body == first
    assert Message.objects.filter(message_id="recent").count() == 1


def test_dry_run_counts_and_changes_nothing(history):
    texts = list(Message.objects.values_list("text", "customer_name"))

    output = run("--older-than", "90d", "--dry-run")
    as_json = json.loads(run("--older-than", "90d", "--dry-run", "--json"))

    assert output.startswith("Would erase the text and customer name of 3 messages received")
    assert output.endswith("; nothing changed (--dry-run).\n")
    assert (as_json["messages"], as_json["sessions"], as_json["dry_run"]) == (3, 1, True)
    assert as_json["cutoff"].endswith("Z")
    assert list(Message.objects.values_list("text", "customer_name")) == texts


def test_a_second_run_erases_nothing_more(history):
    run("--older-than", "90d")

    assert json.loads(run("--older-than", "90d", "--json"))["messages"] == 0


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("12h", "--older-than: must be at least 1 day"),
        ("soon", "--older-than: 'soon' is not a duration"),
        ("0d", "--older-than: '0d' is not longer than zero."),
    ],
)
def test_a_bad_or_too_short_retention_is_refused_and_changes_nothing(history, value, problem):
    texts = list(Message.objects.values_list("text", flat=True))

    with pytest.raises(CommandError, match=problem.replace("'", "'")):
        run("--older-than", value)

    assert list(Message.objects.values_list("text", flat=True)) == texts


def test_purge_works_in_batches_across_many_messages(history, monkeypatch):
    from assignment import retention

    monkeypatch.setattr(retention, "BATCH_SIZE", 2)

    result = json.loads(run("--older-than", "9d", "--json"))

    assert result["messages"] == 4  # all but the one of yesterday, two at a time
    assert Message.objects.exclude(text="").get().message_id == "open-new"
