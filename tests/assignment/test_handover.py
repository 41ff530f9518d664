"""Nobody left unanswered: reassigning unanswered sessions, returns at the end of a shift and
when a staff member is marked away, all made by the queue worker (``assign_waiting``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from assignment import config, handover, policy
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from staff.models import Staff
from staff.services import staff_save
from tests.factories import StaffFactory, make_working_time, session_with_decision

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


def set_handover(minutes: int | None = None, *, shift_end: bool = False, away: bool = False):
    config.handover_settings_set(
        reassign_unanswered_after_minutes=minutes,
        return_unanswered_at_shift_end=shift_end,
        return_open_sessions_when_away=away,
    )


def new_session(at: datetime = T0, customer: str = "c-1") -> ChatSession:
    session, _ = session_with_decision(created_at=at, customer_id=customer)
    session.refresh_from_db()
    return session


def staff_reply(session: ChatSession, email: str, at: datetime, message_id: str = "r-1") -> None:
    incoming = IncomingMessage(
        message_id=message_id,
        customer_id=session.customer_id,
        channel=session.channel,
        author="staff",
        staff_email=email,
    )
    ingest_message(incoming=incoming, now=at)


def assignee(session: ChatSession) -> str | None:
    session.refresh_from_db()
    return session.assigned_staff.name if session.assigned_staff else None


def hand_over(at: datetime) -> handover.HandoverRun:
    return handover.hand_over_due(now=at)


def staff_named(name: str) -> Staff:
    return Staff.objects.get(name=name)


# --- Reassigning unanswered sessions ---------------------------------------------------------


def test_a_session_nobody_answered_moves_to_the_next_in_line(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    assert assignee(session) == "Alice"
    later = T0 + timedelta(minutes=10)

    run = hand_over(later)

    assert assignee(session) == "Bob"
    [moved] = run.reassigned
    assert (moved.session_id, moved.passed_over.name, moved.assigned_to.name) == (
        session.pk,
        "Alice",
        "Bob",
    )
    assert moved.reason == "reassigned: Alice did not answer for 10 min; never assigned"
    assert moved.candidates == 2  # Bob and Carol: everyone on duty with room but Alice
    event = AssignmentEvent.objects.get(pk=moved.event_id)
    assert (event.kind, event.staff.name, event.reassigned_from.name) == (
        AssignmentEvent.Kind.REASSIGNED,
        "Bob",
        "Alice",
    )
    assert event.reason == moved.reason


def test_a_reassignment_counts_as_the_next_ones_assignment_and_the_passed_over_keeps_her_place(
    cast, auto_assign_on
):
    set_handover(10)
    session = new_session()
    later = T0 + timedelta(minutes=15)

    hand_over(later)

    alice, bob = staff_named("Alice"), staff_named("Bob")
    assert (alice.last_assigned_at, alice.open_sessions) == (T0, 0)
    assert (bob.last_assigned_at, bob.open_sessions) == (later, 1)
    session.refresh_from_db()
    assert session.assigned_at == later
    # Alice keeps her place: Carol (never assigned) is next, then Alice, then Bob.
    assert [member.name for member in policy.staff_on_duty(at=later)] == ["Carol", "Alice", "Bob"]


def test_the_reason_says_how_long_since_the_next_ones_last_assignment(cast, auto_assign_on):
    set_handover(10)
    Staff.objects.filter(name="Bob").update(last_assigned_at=T0 - timedelta(minutes=1))
    Staff.objects.filter(name="Carol").update(active=False)
    session = new_session()
    assert assignee(session) == "Alice"

    [moved] = hand_over(T0 + timedelta(minutes=12)).reassigned

    assert moved.assigned_to.name == "Bob"
    assert moved.reason == "reassigned: Alice did not answer for 12 min; last assigned 13 min ago"


def test_an_answered_session_stays(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    staff_reply(session, "alice@example.com", T0 + timedelta(minutes=9))

    run = hand_over(T0 + timedelta(hours=2))

    assert run.reassigned == []
    assert assignee(session) == "Alice"


def test_an_answer_by_a_colleague_counts_too(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    staff_reply(session, "carol@example.com", T0 + timedelta(minutes=2))

    assert hand_over(T0 + timedelta(minutes=30)).reassigned == []
    assert assignee(session) == "Alice"


def test_a_staff_message_before_the_assignment_does_not_answer_it(cast):
    set_handover(10)
    session = new_session()  # automatic assignment off: it waits
    staff_reply(session, "carol@example.com", T0 + timedelta(minutes=1))
    config.auto_assign_set(enabled=True)
    policy.assign_oldest_waiting(now=T0 + timedelta(minutes=2))
    assert assignee(session) == "Alice"

    hand_over(T0 + timedelta(minutes=12))

    assert assignee(session) == "Bob"


def test_not_before_n_minutes(cast, auto_assign_on):
    set_handover(10)
    session = new_session()

    assert hand_over(T0 + timedelta(minutes=9, seconds=59)).reassigned == []
    assert assignee(session) == "Alice"


def test_reassigning_is_off_by_default(cast, auto_assign_on):
    assert AssignmentSettings.objects.get().reassign_unanswered_after_minutes is None
    session = new_session()

    assert hand_over(T0 + timedelta(days=1)).count == 0
    assert assignee(session) == "Alice"


def test_nothing_is_handed_over_while_automatic_assignment_is_off(cast, auto_assign_on):
    set_handover(10, shift_end=True, away=True)
    session = new_session()
    staff_save(staff=staff_named("Alice"), **_fields(staff_named("Alice"), active=False))
    config.auto_assign_set(enabled=False)

    assert hand_over(T0 + timedelta(hours=1)).count == 0
    assert assignee(session) == "Alice"


def test_with_nobody_else_on_duty_with_room_it_stays(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    Staff.objects.exclude(name="Alice").update(active=False)

    assert hand_over(T0 + timedelta(minutes=20)).reassigned == []
    assert assignee(session) == "Alice"
    assert staff_named("Alice").open_sessions == 1


def test_the_next_one_must_have_room(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    Staff.objects.filter(name="Bob").update(max_open_sessions=1, open_sessions=1)

    hand_over(T0 + timedelta(minutes=10))

    assert assignee(session) == "Carol"


def test_a_session_is_never_given_back_to_someone_who_let_it_go(cast, auto_assign_on):
    """At most once per staff member per session: Alice, then Bob, then Carol, then it stays
    with Carol however long nobody answers."""
    set_handover(10)
    session = new_session()
    owners = []
    for step in range(1, 6):
        hand_over(T0 + timedelta(minutes=10 * step))
        owners.append(assignee(session))

    assert owners == ["Bob", "Carol", "Carol", "Carol", "Carol"]
    events = AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.REASSIGNED).order_by("id")
    assert [(e.reassigned_from.name, e.staff.name) for e in events] == [
        ("Alice", "Bob"),
        ("Bob", "Carol"),
    ]
    counts = dict(Staff.objects.values_list("name", "open_sessions"))
    assert counts == {"Alice": 0, "Bob": 0, "Carol": 1}


def test_a_closed_session_is_not_reassigned(cast, auto_assign_on):
    set_handover(10)
    session = new_session()
    policy.session_close(session=session, now=T0 + timedelta(minutes=5))

    assert hand_over(T0 + timedelta(minutes=30)).reassigned == []


def test_assign_waiting_reassigns_in_the_same_run_as_the_queue(cast):
    waiting = new_session(T0 + timedelta(minutes=1), "waiting")  # automatic assignment off
    config.auto_assign_set(enabled=True)
    unanswered = new_session(T0, "unanswered")  # older than "waiting": assigned at once
    assert (assignee(unanswered), assignee(waiting)) == ("Alice", None)
    set_handover(10)
    out = io.StringIO()

    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        call_command("assign_waiting", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {"auto_assign": True, "assigned": 1, "waiting": 0}
    # The queue first (Bob, next in line), then the reassignment (Carol, the next after).
    assert (assignee(waiting), assignee(unanswered)) == ("Bob", "Carol")


# --- Returns when a shift ends -----------------------------------------------------------------


@pytest.fixture
def london_night() -> Staff:
    """Nina works Saturday night in London, 22:00 to 02:00; Dan works around the clock."""
    night = make_working_time("London night", "Europe/London", {"sat": [["22:00", "02:00"]]})
    StaffFactory(name="Dan", email="dan@example.com", working_time=make_working_time())
    nina = StaffFactory(
        name="Nina",
        email="nina@example.com",
        working_time=night,
        last_assigned_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    Staff.objects.filter(name="Dan").update(last_assigned_at=datetime(2026, 1, 1, tzinfo=UTC))
    config.auto_assign_set(enabled=True)
    set_handover(shift_end=True)
    return nina


def test_unanswered_sessions_return_when_a_past_midnight_shift_ends(london_night):
    saturday_2330 = datetime(2026, 1, 10, 23, 30, tzinfo=UTC)  # London is on UTC in winter
    session = new_session(saturday_2330)
    assert assignee(session) == "Nina"

    assert hand_over(datetime(2026, 1, 11, 1, 59, tzinfo=UTC)).returned == []
    assert assignee(session) == "Nina"

    [returned] = hand_over(datetime(2026, 1, 11, 2, 0, tzinfo=UTC)).returned

    assert returned.session_ids == [session.pk]
    assert assignee(session) is None
    event = AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.RETURNED).get()
    assert event.staff.name == "Nina"
    assert event.reason == (
        "returned to the waiting queue: Nina's working hours (London night) ended with it "
        "unanswered"
    )
    assert staff_named("Nina").open_sessions == 0


def test_on_the_night_clocks_fall_back_the_shift_ends_an_hour_later_in_utc(london_night):
    """25 Oct 2026: London's 02:00 BST becomes 01:00 GMT, so a shift until 02:00 runs until
    02:00 GMT, 02:00 UTC (not 01:00 UTC, as in summer time)."""
    saturday_2230_bst = datetime(2026, 10, 24, 21, 30, tzinfo=UTC)
    session = new_session(saturday_2230_bst)
    assert assignee(session) == "Nina"

    assert hand_over(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)).returned == []  # 01:30 GMT
    assert assignee(session) == "Nina"
    hand_over(datetime(2026, 10, 25, 2, 0, tzinfo=UTC))

    assert assignee(session) is None


def test_on_the_night_clocks_go_forward_the_shift_ends_an_hour_earlier_in_utc(london_night):
    """29 Mar 2026: 01:00 GMT becomes 02:00 BST, so the shift's 02:00 is 01:00 UTC."""
    saturday_2300 = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    session = new_session(saturday_2300)
    assert assignee(session) == "Nina"

    assert hand_over(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)).returned == []
    hand_over(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))

    assert assignee(session) is None


def test_an_answered_session_is_not_returned_at_the_end_of_the_shift(london_night):
    session = new_session(datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
    staff_reply(session, "nina@example.com", datetime(2026, 1, 10, 23, 40, tzinfo=UTC))

    assert hand_over(datetime(2026, 1, 11, 3, 0, tzinfo=UTC)).returned == []
    assert assignee(session) == "Nina"


def test_a_session_given_to_someone_off_duty_is_left_with_them(london_night, admin_user):
    monday = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)  # Nina is off duty
    session = new_session(monday)
    assert assignee(session) == "Dan"
    policy.session_assign_manually(
        session=session, staff=london_night, assigned_by=admin_user, now=monday
    )

    assert hand_over(monday + timedelta(hours=1)).returned == []
    assert assignee(session) == "Nina"


def test_returning_at_the_end_of_a_shift_is_off_by_default(london_night):
    set_handover(shift_end=False)
    session = new_session(datetime(2026, 1, 10, 23, 30, tzinfo=UTC))

    assert hand_over(datetime(2026, 1, 11, 3, 0, tzinfo=UTC)).count == 0
    assert assignee(session) == "Nina"


def test_assign_waiting_returns_and_reassigns_to_staff_on_duty_in_one_run(london_night):
    session = new_session(datetime(2026, 1, 10, 23, 30, tzinfo=UTC))

    with time_machine.travel(datetime(2026, 1, 11, 2, 30, tzinfo=UTC), tick=False):
        call_command("assign_waiting", verbosity=0)

    assert assignee(session) == "Dan"
    kinds = list(AssignmentEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["automatic", "returned", "queue"]


# --- Returns when a staff member is marked away ------------------------------------------------


def _fields(member: Staff, **changes) -> dict:
    return {
        "email": member.email,
        "name": member.name,
        "working_time": member.working_time,
        "active": member.active,
        "max_open_sessions": member.max_open_sessions,
        **changes,
    }


def test_open_sessions_of_staff_marked_away_return_to_the_queue(cast, auto_assign_on):
    set_handover(away=True)
    first, second = new_session(T0, "c-1"), new_session(T0, "c-2")
    staff_reply(first, "alice@example.com", T0 + timedelta(minutes=1))  # answered: still goes
    alice = staff_named("Alice")
    staff_save(staff=alice, **_fields(alice, active=False))

    run = hand_over(T0 + timedelta(minutes=2))

    assert [returned.session_ids for returned in run.returned] == [[first.pk]]
    assert (assignee(first), assignee(second)) == (None, "Bob")
    event = AssignmentEvent.objects.get(kind=AssignmentEvent.Kind.RETURNED)
    assert event.reason == "returned to the waiting queue: Alice is away"


def test_away_staff_keep_their_sessions_while_the_setting_is_off(cast, auto_assign_on):
    session = new_session()
    alice = staff_named("Alice")
    staff_save(staff=alice, **_fields(alice, active=False))

    assert hand_over(T0 + timedelta(hours=1)).count == 0
    assert assignee(session) == "Alice"


def test_the_worker_hands_sessions_of_away_staff_to_the_next_in_line(cast, auto_assign_on):
    set_handover(away=True)
    session = new_session()
    alice = staff_named("Alice")
    staff_save(staff=alice, **_fields(alice, active=False))

    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        call_command("assign_waiting", verbosity=0)

    assert assignee(session) == "Bob"
