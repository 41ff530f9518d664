"""The on_duty and assign_waiting commands, as docs/API.md's sections on them describe them."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from assignment import config, policy
from assignment.models import AssignmentEvent, ChatSession
from assignment.policy import Outcome
from staff.models import Staff
from tests.factories import (
    StaffFactory,
    make_working_time,
    session_with_decision,
)

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_6 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# Monday 2026-01-05: 09:00 in Taipei is 01:00 UTC, 18:00 in Taipei is 10:00 UTC.
TAIPEI_MONDAY_MORNING = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
TAIPEI_MONDAY_EVENING = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def on_duty_json(*args: str) -> list[dict]:
    return json.loads(run("on_duty", "--json", *args))


def on_duty_emails(*args: str) -> list[str]:
    return [entry["email"] for entry in on_duty_json(*args)]


def set_last_assigned(staff: Staff, when: datetime | None) -> None:
    Staff.objects.filter(pk=staff.pk).update(last_assigned_at=when)


@pytest.fixture
def taipei_day():
    return make_working_time("Taipei day", "Asia/Taipei", WEEKDAYS_9_TO_6)


# --- on_duty -------------------------------------------------------------------------------


def test_on_duty_json_lists_staff_in_assignment_order(always_on):
    alice = StaffFactory(name="Alice", email="alice@example.com", working_time=always_on)
    bob = StaffFactory(name="Bob", email="bob@example.com", working_time=always_on)
    carol = StaffFactory(name="Carol", email="carol@example.com", working_time=always_on)
    dave = StaffFactory(name="Dave", email="dave@example.com", working_time=always_on)
    set_last_assigned(bob, datetime(2026, 1, 2, 0, 0, tzinfo=UTC))
    set_last_assigned(carol, datetime(2026, 1, 1, 0, 0, tzinfo=UTC))
    Staff.objects.filter(pk=carol.pk).update(open_sessions=3)

    listed = on_duty_json()

    # Never assigned first (by id), then the longest since the last assignment.
    assert listed == [
        {
            "id": alice.pk,
            "name": "Alice",
            "email": "alice@example.com",
            "last_assigned_at": None,
            "open_sessions": 0,
        },
        {
            "id": dave.pk,
            "name": "Dave",
            "email": "dave@example.com",
            "last_assigned_at": None,
            "open_sessions": 0,
        },
        {
            "id": carol.pk,
            "name": "Carol",
            "email": "carol@example.com",
            "last_assigned_at": "2026-01-01T00:00:00Z",
            "open_sessions": 3,
        },
        {
            "id": bob.pk,
            "name": "Bob",
            "email": "bob@example.com",
            "last_assigned_at": "2026-01-02T00:00:00Z",
            "open_sessions": 0,
        },
    ]


def test_on_duty_prints_last_assigned_at_in_utc(always_on):
    alice = StaffFactory(email="alice@example.com", working_time=always_on)
    stamp = datetime.fromisoformat("2026-01-01T08:30:15.250000+08:00")
    set_last_assigned(alice, stamp)

    printed = on_duty_json()[0]["last_assigned_at"]

    assert printed == "2026-01-01T00:30:15.250000Z"
    parsed = datetime.fromisoformat(printed)
    assert parsed.utcoffset() == timedelta(0)
    assert parsed == stamp


def test_on_duty_leaves_out_staff_who_are_away_or_at_capacity(always_on):
    StaffFactory(email="away@example.com", working_time=always_on, active=False)
    full = StaffFactory(email="full@example.com", working_time=always_on, max_open_sessions=2)
    room = StaffFactory(email="room@example.com", working_time=always_on, max_open_sessions=2)
    StaffFactory(email="nohours@example.com", working_time=None)
    Staff.objects.filter(pk=full.pk).update(open_sessions=2)
    Staff.objects.filter(pk=room.pk).update(open_sessions=1)

    listed = on_duty_json()

    assert [(entry["email"], entry["open_sessions"]) for entry in listed] == [
        ("room@example.com", 1)
    ]


@pytest.mark.parametrize(
    ("at", "emails"),
    [
        ("2026-01-05T01:00:00Z", ["alice@example.com"]),
        ("2026-01-05T09:00:00+08:00", ["alice@example.com"]),
        ("2026-01-05T09:59:00Z", ["alice@example.com"]),
        ("2026-01-05T10:00:00Z", []),
        ("2026-01-05T18:00:00+08:00", []),
        ("2026-01-05T00:59:00Z", []),
        ("2026-01-03T03:00:00Z", []),  # Saturday 11:00 in Taipei
    ],
)
def test_on_duty_at_judges_working_hours_at_that_instant(taipei_day, at, emails):
    StaffFactory(email="alice@example.com", working_time=taipei_day)

    assert on_duty_emails("--at", at) == emails


def test_on_duty_without_at_uses_now(taipei_day):
    StaffFactory(email="alice@example.com", working_time=taipei_day)

    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=False):
        assert on_duty_emails() == ["alice@example.com"]
    with time_machine.travel(TAIPEI_MONDAY_EVENING, tick=False):
        assert on_duty_emails() == []


def test_on_duty_at_sets_only_the_instant_capacity_comes_from_now(taipei_day):
    alice = StaffFactory(email="alice@example.com", working_time=taipei_day, max_open_sessions=1)
    StaffFactory(email="bob@example.com", working_time=taipei_day)
    Staff.objects.filter(pk=alice.pk).update(open_sessions=1)

    assert on_duty_emails("--at", "2026-01-05T01:00:00Z") == ["bob@example.com"]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2026-01-05T01:00:00", "--at '2026-01-05T01:00:00' needs an offset, e.g. Z or +08:00."),
        ("2026-01-05", "--at '2026-01-05' needs an offset, e.g. Z or +08:00."),
        ("next tuesday", "--at 'next tuesday' is not an ISO 8601 date and time."),
        ("2026-13-05T01:00:00Z", "--at '2026-13-05T01:00:00Z' is not an ISO 8601 date and time."),
        ("", "--at '' is not an ISO 8601 date and time."),
    ],
    ids=["no-offset", "date-only", "words", "month-13", "empty"],
)
def test_on_duty_at_without_an_offset_or_not_a_date_is_an_error(taipei_day, at, message):
    alice = StaffFactory(email="alice@example.com", working_time=taipei_day)
    set_last_assigned(alice, datetime(2026, 1, 1, tzinfo=UTC))
    before = list(Staff.objects.values())
    out = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("on_duty", "--json", "--at", at, stdout=out)

    assert str(caught.value) == message
    assert out.getvalue() == ""
    assert list(Staff.objects.values()) == before


@pytest.mark.parametrize(
    ("at", "on_duty"),
    [
        ("2026-10-24T23:30:00Z", False),  # 00:30 BST
        ("2026-10-25T00:00:00Z", True),  # 01:00 BST, first time
        ("2026-10-25T00:30:00Z", True),  # 01:30 BST, first time
        ("2026-10-25T01:30:00Z", True),  # 01:30 GMT, the repeated hour
        ("2026-10-25T01:30:00+00:00", True),
        ("2026-10-25T02:00:00Z", False),  # 02:00 GMT
    ],
)
def test_on_duty_counts_both_occurrences_when_clocks_fall_back(at, on_duty):
    london = make_working_time("London", "Europe/London", {"sun": [["01:00", "02:00"]]})
    StaffFactory(email="alice@example.com", working_time=london)

    assert on_duty_emails("--at", at) == (["alice@example.com"] if on_duty else [])


@pytest.mark.parametrize(
    "at",
    ["2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"],
    ids=["00:59 GMT", "02:00 BST", "02:30 BST"],
)
def test_on_duty_never_reaches_hours_skipped_when_clocks_spring_forward(at):
    london = make_working_time("London", "Europe/London", {"sun": [["01:00", "02:00"]]})
    StaffFactory(email="alice@example.com", working_time=london)

    assert on_duty_emails("--at", at) == []


def test_on_duty_text_lists_the_staff_next_in_line_first(always_on):
    alice = StaffFactory(
        name="Alice", email="alice@example.com", working_time=always_on, max_open_sessions=2
    )
    StaffFactory(name="Bob", email="bob@example.com", working_time=always_on)
    set_last_assigned(alice, datetime(2026, 1, 1, tzinfo=UTC))
    Staff.objects.filter(pk=alice.pk).update(open_sessions=1)

    output = run("on_duty", "--at", "2026-01-05T01:00:00Z")

    assert output == (
        "1. Bob <bob@example.com> last assigned: never, open sessions: 0/∞\n"
        "2. Alice <alice@example.com> last assigned: 2026-01-01T00:00:00+00:00, "
        "open sessions: 1/2\n"
    )


def test_on_duty_text_says_when_nobody_is_on_duty(taipei_day):
    StaffFactory(email="alice@example.com", working_time=taipei_day)

    output = run("on_duty", "--at", "2026-01-05T10:00:00Z")

    assert output == "Nobody is on duty with room at 2026-01-05T10:00:00+00:00.\n"


def test_on_duty_json_prints_an_empty_list_when_nobody_is_on_duty(taipei_day):
    StaffFactory(email="alice@example.com", working_time=taipei_day)

    assert run("on_duty", "--json", "--at", "2026-01-05T10:00:00Z") == "[]\n"


# --- assign_waiting --------------------------------------------------------------------------


def waiting_created_while_off(count: int, *, start: datetime) -> list[ChatSession]:
    """``count`` sessions created while auto-assignment is off, one minute apart.

    They are created newest first, so id order is the reverse of created_at order: the
    queue must follow created_at.
    """
    created = [
        session_with_decision(created_at=start + timedelta(minutes=minute))
        for minute in reversed(range(count))
    ]
    assert all(decision.outcome is Outcome.AUTO_ASSIGN_OFF for _, decision in created)
    return sorted((session for session, _ in created), key=lambda session: session.created_at)


def assignees(sessions: list[ChatSession]) -> list[str | None]:
    by_id = {
        session.pk: session
        for session in ChatSession.objects.select_related("assigned_staff").filter(
            pk__in=[session.pk for session in sessions]
        )
    }
    return [
        by_id[session.pk].assigned_staff.name.lower() if by_id[session.pk].assigned_staff else None
        for session in sessions
    ]


def test_assign_waiting_does_nothing_while_auto_assign_is_off(cast):
    sessions = waiting_created_while_off(3, start=TAIPEI_MONDAY_MORNING)

    output = run("assign_waiting")

    assert output == "Automatic assignment is off: nothing assigned.\n"
    assert assignees(sessions) == [None, None, None]
    assert not AssignmentEvent.objects.exists()
    assert list(Staff.objects.values_list("open_sessions", "last_assigned_at")) == [(0, None)] * 3


def test_assign_waiting_spreads_sessions_from_while_it_was_off_oldest_first(cast):
    sessions = waiting_created_while_off(6, start=datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    config.auto_assign_set(enabled=True)

    # The clock ticks, as it does in production: each assignment is stamped a little later
    # than the one before. (With a frozen clock every stamp ties and ties go to Alice.)
    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=True):
        output = run("assign_waiting")

    assert output == "Assigned 6 waiting sessions; 0 still waiting.\n"
    assert assignees(sessions) == ["alice", "bob", "carol", "alice", "bob", "carol"]
    assert list(Staff.objects.order_by("id").values_list("open_sessions", flat=True)) == [2, 2, 2]
    events = list(AssignmentEvent.objects.order_by("id"))
    assert [event.session_id for event in events] == [session.pk for session in sessions]
    stamps = [event.created_at for event in events]
    assert stamps == sorted(stamps)
    assert (
        TAIPEI_MONDAY_MORNING
        <= stamps[0]
        < stamps[-1]
        < TAIPEI_MONDAY_MORNING + timedelta(minutes=1)
    )
    assert [ChatSession.objects.get(pk=session.pk).assigned_at for session in sessions] == stamps
    assert [member.last_assigned_at for member in Staff.objects.order_by("id")] == stamps[3:]
    assert {event.kind for event in events} == {AssignmentEvent.Kind.QUEUE}
    assert all(event.reason.startswith("from the waiting queue") for event in events)
    assert [event.reason for event in events[:4]] == [
        "from the waiting queue; never assigned",
        "from the waiting queue; never assigned",
        "from the waiting queue; never assigned",
        "from the waiting queue; last assigned 0 s ago",
    ]
    assert [event.candidates for event in events] == [3, 3, 3, 3, 3, 3]


def test_assign_waiting_follows_the_policy_order_from_earlier_assignments(cast):
    sessions = waiting_created_while_off(3, start=datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    set_last_assigned(cast["alice"], datetime(2026, 1, 4, 12, 0, tzinfo=UTC))
    set_last_assigned(cast["bob"], datetime(2026, 1, 4, 11, 0, tzinfo=UTC))
    config.auto_assign_set(enabled=True)

    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=False):
        run("assign_waiting")

    # Carol was never assigned; Bob's last assignment is older than Alice's.
    assert assignees(sessions) == ["carol", "bob", "alice"]
    assert AssignmentEvent.objects.get(session=sessions[1]).reason == (
        "from the waiting queue; last assigned 14 h 0 min ago"
    )


def test_sessions_wait_while_nobody_is_on_duty(taipei_day):
    StaffFactory(name="Alice", email="alice@example.com", working_time=taipei_day)
    config.auto_assign_set(enabled=True)
    with time_machine.travel(TAIPEI_MONDAY_EVENING, tick=False):
        created = [session_with_decision(), session_with_decision()]
        assert [decision.outcome for _, decision in created] == [Outcome.QUEUED] * 2
        sessions = [session for session, _ in created]

        output = run("assign_waiting")

    assert output == "Assigned 0 waiting sessions; 2 still waiting.\n"
    assert assignees(sessions) == [None, None]
    assert not AssignmentEvent.objects.exists()

    tuesday_morning = TAIPEI_MONDAY_MORNING + timedelta(days=1)
    with time_machine.travel(tuesday_morning, tick=False):
        output = run("assign_waiting")

    assert output == "Assigned 2 waiting sessions; 0 still waiting.\n"
    assert assignees(sessions) == ["alice", "alice"]
    # The clock stood still: the second decision is stamped a microsecond after the first.
    stamps = ChatSession.objects.order_by("id").values_list("assigned_at", flat=True)
    assert list(stamps) == [tuesday_morning, tuesday_morning + timedelta(microseconds=1)]


def test_assign_waiting_respects_capacity(cast):
    Staff.objects.filter(pk=cast["alice"].pk).update(max_open_sessions=1)
    Staff.objects.filter(pk=cast["carol"].pk).update(max_open_sessions=2)
    sessions = waiting_created_while_off(6, start=datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    config.auto_assign_set(enabled=True)

    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=True):
        output = run("assign_waiting")

    assert output == "Assigned 6 waiting sessions; 0 still waiting.\n"
    # Alice is full after one, Carol after two; Bob has no limit.
    assert assignees(sessions) == ["alice", "bob", "carol", "bob", "carol", "bob"]
    assert list(Staff.objects.order_by("id").values_list("open_sessions", flat=True)) == [1, 3, 2]


def test_assign_waiting_leaves_sessions_waiting_when_everyone_is_full(cast):
    Staff.objects.update(max_open_sessions=1)
    sessions = waiting_created_while_off(5, start=datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    config.auto_assign_set(enabled=True)

    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=False):
        output = run("assign_waiting")

    assert output == "Assigned 3 waiting sessions; 2 still waiting.\n"
    assert assignees(sessions) == ["alice", "bob", "carol", None, None]
    assert list(Staff.objects.values_list("open_sessions", flat=True)) == [1, 1, 1]


def test_assign_waiting_skips_away_staff_closed_and_assigned_sessions(cast):
    Staff.objects.filter(pk=cast["alice"].pk).update(active=False)
    sessions = waiting_created_while_off(3, start=datetime(2026, 1, 5, 0, 0, tzinfo=UTC))
    policy.session_close(session=sessions[0], now=datetime(2026, 1, 5, 0, 30, tzinfo=UTC))
    policy.session_assign_manually(session=sessions[1], staff=cast["carol"], assigned_by=None)
    config.auto_assign_set(enabled=True)

    with time_machine.travel(TAIPEI_MONDAY_MORNING, tick=False):
        output = run("assign_waiting")

    assert output == "Assigned 1 waiting sessions; 0 still waiting.\n"
    assert assignees(sessions) == [None, "carol", "bob"]
    assert ChatSession.objects.get(pk=sessions[0].pk).status == ChatSession.Status.CLOSED
    assert list(AssignmentEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        AssignmentEvent.Kind.MANUAL,
        AssignmentEvent.Kind.QUEUE,
    ]


def test_assign_waiting_with_an_empty_queue(auto_assign_on):
    assert run("assign_waiting") == "Assigned 0 waiting sessions; 0 still waiting.\n"
