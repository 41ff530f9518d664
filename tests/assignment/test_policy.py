"""The assignment policy: who gets each new session, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model

from assignment import config, policy
from assignment.models import AssignmentEvent, ChatSession
from assignment.policy import Outcome
from staff.models import Staff
from tests.factories import (
    ChatSessionFactory,
    StaffFactory,
    make_working_time,
    session_with_decision,
)

pytestmark = pytest.mark.django_db

MONDAY_0900_UTC = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def new_session_at(when: datetime) -> ChatSession:
    with time_machine.travel(when, tick=False):
        return ChatSessionFactory(created_at=when)


def assignee(session: ChatSession) -> str | None:
    session.refresh_from_db()
    return session.assigned_staff.name if session.assigned_staff else None


def test_never_assigned_staff_go_first_in_the_order_they_were_added(cast, auto_assign_on):
    names = [assignee(new_session_at(MONDAY_0900_UTC + timedelta(minutes=i))) for i in range(3)]

    assert names == ["Alice", "Bob", "Carol"]


def test_then_the_longest_since_the_last_assignment(cast, auto_assign_on):
    cast["alice"].last_assigned_at = MONDAY_0900_UTC - timedelta(hours=1)
    cast["bob"].last_assigned_at = MONDAY_0900_UTC - timedelta(hours=3)
    cast["carol"].last_assigned_at = MONDAY_0900_UTC - timedelta(hours=2)
    for member in cast.values():
        member.save()

    names = [assignee(new_session_at(MONDAY_0900_UTC + timedelta(minutes=i))) for i in range(4)]

    assert names == ["Bob", "Carol", "Alice", "Bob"]


def test_a_newcomer_goes_before_everyone_already_assigned(cast, auto_assign_on, always_on):
    for i in range(3):
        new_session_at(MONDAY_0900_UTC + timedelta(minutes=i))
    StaffFactory(name="Dave", email="dave@example.com", working_time=always_on)

    assert assignee(new_session_at(MONDAY_0900_UTC + timedelta(minutes=5))) == "Dave"


def test_ties_on_last_assignment_go_to_the_staff_added_first(cast, auto_assign_on):
    same = MONDAY_0900_UTC - timedelta(hours=1)
    Staff.objects.update(last_assigned_at=same)

    assert assignee(new_session_at(MONDAY_0900_UTC)) == "Alice"


def test_spread_is_even_over_many_sessions(cast, auto_assign_on):
    for i in range(30):
        new_session_at(MONDAY_0900_UTC + timedelta(seconds=i))

    counts = {m.name: m.sessions.count() for m in Staff.objects.all()}
    assert counts == {"Alice": 10, "Bob": 10, "Carol": 10}


def test_away_staff_get_nothing(cast, auto_assign_on):
    cast["alice"].active = False
    cast["alice"].save()

    names = {assignee(new_session_at(MONDAY_0900_UTC + timedelta(minutes=i))) for i in range(4)}

    assert names == {"Bob", "Carol"}


def test_full_staff_are_skipped_until_a_session_closes(cast, auto_assign_on):
    Staff.objects.update(max_open_sessions=1)
    first = [new_session_at(MONDAY_0900_UTC + timedelta(minutes=i)) for i in range(3)]

    fourth, decision = session_with_decision(created_at=MONDAY_0900_UTC + timedelta(minutes=5))
    assert decision.outcome is Outcome.QUEUED
    assert assignee(fourth) is None

    policy.session_close(session=first[1], now=MONDAY_0900_UTC + timedelta(minutes=6))
    fifth = new_session_at(MONDAY_0900_UTC + timedelta(minutes=7))
    # First come, first served: Bob's free room goes to the fourth, who waited longer.
    assert assignee(fourth) == "Bob"
    assert assignee(fifth) is None
    assert Staff.objects.get(name="Bob").open_sessions == 1


def test_staff_without_working_time_get_nothing(cast, auto_assign_on):
    StaffFactory(name="Zed", email="zed@example.com", working_time=None)

    names = {assignee(new_session_at(MONDAY_0900_UTC + timedelta(minutes=i))) for i in range(6)}

    assert "Zed" not in names


def test_on_duty_is_judged_in_each_working_times_own_zone(auto_assign_on):
    taipei = make_working_time("Taipei day", "Asia/Taipei", {"mon": [["09:00", "18:00"]]})
    london = make_working_time("London day", "Europe/London", {"mon": [["09:00", "18:00"]]})
    StaffFactory(name="Tai", email="tai@example.com", working_time=taipei)
    StaffFactory(name="Lon", email="lon@example.com", working_time=london)
    Staff.objects.filter(email__endswith="@example.com", working_time__name="Always").update(
        active=False
    )

    # 02:00 UTC Monday = 10:00 in Taipei, 02:00 in London.
    assert assignee(new_session_at(datetime(2026, 1, 5, 2, 0, tzinfo=UTC))) == "Tai"
    # 12:00 UTC Monday = 20:00 in Taipei, 12:00 in London.
    assert assignee(new_session_at(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))) == "Lon"
    # 20:00 UTC Monday: nobody.
    assert assignee(new_session_at(datetime(2026, 1, 5, 20, 0, tzinfo=UTC))) is None


def test_night_shift_past_midnight_covers_the_next_morning(auto_assign_on):
    night = make_working_time("NY night", "America/New_York", {"fri": [["22:00", "06:00"]]})
    StaffFactory(name="Nia", email="nia@example.com", working_time=night)
    Staff.objects.filter(working_time__name="Always").update(active=False)

    # Saturday 2026-01-10 05:59 in New York (UTC-5) = 10:59 UTC.
    assert assignee(new_session_at(datetime(2026, 1, 10, 10, 59, tzinfo=UTC))) == "Nia"
    # Saturday 06:00 in New York: the shift has ended.
    assert assignee(new_session_at(datetime(2026, 1, 10, 11, 0, tzinfo=UTC))) is None


def test_each_assignment_records_who_why_and_how_many_were_candidates(cast, auto_assign_on):
    new_session_at(MONDAY_0900_UTC)
    new_session_at(MONDAY_0900_UTC + timedelta(minutes=1))
    new_session_at(MONDAY_0900_UTC + timedelta(minutes=2))
    session = new_session_at(MONDAY_0900_UTC + timedelta(hours=3, minutes=12))

    event = AssignmentEvent.objects.get(session=session)
    assert event.staff.name == "Alice"
    assert event.kind == "automatic"
    assert event.reason == "last assigned 3 h 12 min ago"
    assert event.candidates == 3
    assert event.created_at == MONDAY_0900_UTC + timedelta(hours=3, minutes=12)
    first = AssignmentEvent.objects.order_by("created_at").first()
    assert first.reason == "never assigned"


def test_assignment_stamps_last_assigned_and_counts_the_open_session(cast, auto_assign_on):
    session = new_session_at(MONDAY_0900_UTC)

    alice = Staff.objects.get(name="Alice")
    assert alice.last_assigned_at == MONDAY_0900_UTC
    assert alice.open_sessions == 1
    session.refresh_from_db()
    assert session.assigned_at == MONDAY_0900_UTC


def test_toggle_off_assigns_nobody(cast):
    session, decision = session_with_decision(created_at=MONDAY_0900_UTC)

    assert decision.outcome is Outcome.AUTO_ASSIGN_OFF
    assert assignee(session) is None
    assert not AssignmentEvent.objects.exists()


def test_manual_assignment_counts_as_the_last_assignment(cast, auto_assign_on):
    manager = get_user_model().objects.create_user("manager")
    session = new_session_at(MONDAY_0900_UTC)  # Alice
    later = MONDAY_0900_UTC + timedelta(minutes=5)

    event = policy.session_assign_manually(
        session=session, staff=cast["carol"], assigned_by=manager, now=later
    )

    assert event.reason == "manual by manager"
    assert event.kind == "manual"
    carol, alice = Staff.objects.get(name="Carol"), Staff.objects.get(name="Alice")
    assert (carol.last_assigned_at, carol.open_sessions) == (later, 1)
    assert alice.open_sessions == 0  # reassigning frees Alice's place
    # Bob is now the only one never assigned; then Alice (oldest); Carol is last.
    names = [assignee(new_session_at(later + timedelta(minutes=i))) for i in range(1, 4)]
    assert names == ["Bob", "Alice", "Carol"]


def test_manual_assignment_to_a_full_staff_member_is_refused(cast, auto_assign_on):
    Staff.objects.update(max_open_sessions=1)
    new_session_at(MONDAY_0900_UTC)  # Alice, now full
    session = new_session_at(MONDAY_0900_UTC + timedelta(minutes=1))  # Bob

    with pytest.raises(policy.AssignmentError, match="capacity"):
        policy.session_assign_manually(session=session, staff=cast["alice"], assigned_by=None)

    assert assignee(session) == "Bob"


def test_closing_twice_frees_capacity_once(cast, auto_assign_on):
    session = new_session_at(MONDAY_0900_UTC)

    assert policy.session_close(session=session) is True
    assert policy.session_close(session=session) is False
    assert Staff.objects.get(name="Alice").open_sessions == 0


def test_turning_the_toggle_on_needs_a_staff_member_with_working_hours():
    StaffFactory(working_time=None)

    with pytest.raises(config.ValidationError, match="at least one staff member"):
        config.auto_assign_set(enabled=True)
    assert not policy.auto_assign_enabled()


def test_removing_the_last_working_time_while_on_is_refused(cast, auto_assign_on):
    config.staff_set_working_time(staff=cast["alice"], working_time=None)
    config.staff_set_working_time(staff=cast["bob"], working_time=None)

    with pytest.raises(config.ValidationError):
        config.staff_set_working_time(staff=cast["carol"], working_time=None)
    assert Staff.objects.get(name="Carol").working_time is not None


@pytest.mark.parametrize(
    ("elapsed", "words"),
    [
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=7, seconds=3), "7 min"),
        (timedelta(hours=3, minutes=12), "3 h 12 min"),
        (timedelta(days=2, hours=4, minutes=1), "2 d 4 h"),
    ],
)
def test_reason_durations_read_at_a_glance(elapsed, words):
    assert policy.describe_duration(elapsed) == words


# --- Stamps never go backwards -------------------------------------------------------------


def test_a_decision_whose_clock_lags_is_stamped_just_after_the_previous_one(cast, auto_assign_on):
    """A request that reaches the lock after another but read an earlier clock (or a host
    whose clock lags) cannot stamp its staff member as if assigned before the last one."""
    first = new_session_at(MONDAY_0900_UTC)
    lagging = new_session_at(MONDAY_0900_UTC - timedelta(seconds=2))
    on_time = new_session_at(MONDAY_0900_UTC + timedelta(seconds=1))

    stamps = [ChatSession.objects.get(pk=s.pk).assigned_at for s in (first, lagging, on_time)]
    assert stamps == [
        MONDAY_0900_UTC,
        MONDAY_0900_UTC + timedelta(microseconds=1),
        MONDAY_0900_UTC + timedelta(seconds=1),
    ]
    # So the rotation stays the order of the decisions: Alice, Bob, Carol, then Alice.
    assert [assignee(s) for s in (first, lagging, on_time)] == ["Alice", "Bob", "Carol"]
    assert assignee(new_session_at(MONDAY_0900_UTC + timedelta(seconds=2))) == "Alice"
    event = AssignmentEvent.objects.get(session=lagging)
    assert event.created_at == MONDAY_0900_UTC + timedelta(microseconds=1)


def test_a_manual_assignment_is_stamped_after_the_latest_decision_too(cast, auto_assign_on):
    new_session_at(MONDAY_0900_UTC)  # Alice
    session = ChatSessionFactory.build(created_at=MONDAY_0900_UTC)
    config.auto_assign_set(enabled=False)
    session.save()

    event = policy.session_assign_manually(
        session=session,
        staff=cast["carol"],
        assigned_by=None,
        now=MONDAY_0900_UTC - timedelta(minutes=1),
    )

    assert event.created_at == MONDAY_0900_UTC + timedelta(microseconds=1)
    cast["carol"].refresh_from_db()
    assert cast["carol"].last_assigned_at == event.created_at
