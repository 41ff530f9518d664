"""Every path that decides or previews who is next agrees, on generated stores and instants.

The rule lives in ``assignment.policy``; PostgreSQL also runs it as the database function
``chatassist_assign_next`` (assignment/sql/assign_next.sql) for speed. This test generates
stores (working times in several zones with past-midnight ranges, dated exceptions around
the instant (closed days, other hours, past-midnight tails into and out of them), instants
around the daylight-saving changes, staff tied on their last assignment, never assigned, away, at
capacity, without a working time) and checks that these all name the same staff member,
the same number of candidates and the same reason:

* the preview, ``policy.staff_on_duty`` (what ``on_duty`` prints), first in line;
* ``manage.py on_duty --at ... --json``;
* the Next in line page's report;
* the decision for a new session, through its ``post_save`` signal (on PostgreSQL: the
  database function);
* the step-by-step ORM decision (SQLite's; run on PostgreSQL too, beside the function);
* the waiting queue's decision (``assign_oldest_waiting``), with its reason's prefix;
* a new session's decision while an older one waits (first come, first served), in both
  forms: it goes to the older session, with the queue's reason.

Each example runs in a transaction that is rolled back. RULE_EXAMPLES sets the number of
examples (the long form: RULE_EXAMPLES=2000).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, Phase, example, find, given, settings
from hypothesis import strategies as st

from assignment import decisions, policy
from assignment.models import AssignmentSettings, ChatSession
from assignment.reports.next_in_line import next_in_line
from staff import schedule
from staff.models import Staff
from staff.services import working_time_save

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("RULE_EXAMPLES", "150"))
ZONES = ["UTC", "Asia/Taipei", "Europe/London", "America/New_York", "Asia/Kolkata"]
# Around the 2026 daylight-saving changes of New York (8 Mar, 1 Nov) and London (29 Mar,
# 25 Oct), and an ordinary Monday.
BASE_INSTANTS = [
    datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
]
# Few distinct stamps, so that staff often tie on their last assignment.
STAMPS = [None, None, *(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in (0, 5))]


ROUND_THE_CLOCK = tuple(schedule.WeeklyRange(day, 0, 1440) for day in range(7))


@dataclass(frozen=True)
class StaffSpec:
    working_time: int | None  # index into the working times
    active: bool
    max_open_sessions: int | None
    open_sessions: int
    last_assigned_at: datetime | None


def day_ranges() -> st.SearchStrategy[list[tuple[int, int]]]:
    """Zero to two ranges of one day, in whole half hours; end < start runs past midnight."""
    clock = st.integers(min_value=0, max_value=47).map(lambda half_hours: half_hours * 30)
    end = st.integers(min_value=1, max_value=48).map(lambda half_hours: half_hours * 30)
    return st.lists(st.tuples(clock, end), max_size=2)


def weekly_ranges(draw) -> tuple[schedule.WeeklyRange, ...] | None:
    ranges = [
        schedule.WeeklyRange(weekday, start, stop)
        for weekday in range(7)
        for start, stop in draw(day_ranges())
        if start != stop
    ]
    try:
        return schedule.validate_ranges(ranges)
    except schedule.ScheduleError:
        return None  # overlapping: not a store anyone can save


def date_exceptions(
    draw, ranges: tuple[schedule.WeeklyRange, ...], near: datetime
) -> tuple[schedule.DateException, ...]:
    """Zero to two exceptions on the dates around ``near`` (a day either side covers every
    zone's local date), closed or with their own ranges; () when they would overlap."""
    days = draw(st.sets(st.integers(min_value=-2, max_value=1), max_size=2))
    exceptions = [
        schedule.DateException(
            near.date() + timedelta(days=offset),
            tuple((start, stop) for start, stop in draw(day_ranges()) if start != stop),
        )
        for offset in sorted(days)
    ]
    try:
        return schedule.validate_exceptions(ranges, exceptions)
    except schedule.ScheduleError:
        return ()  # overlapping: not a store anyone can save


@st.composite
def stores(draw):
    instant = draw(st.sampled_from(BASE_INSTANTS)) + timedelta(
        minutes=draw(st.integers(min_value=-36 * 60, max_value=36 * 60))
    )
    working_times = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        # A third round the clock, so that staff of several working times are often on duty
        # together and ties between working times are decided by the tie-break.
        ranges = ROUND_THE_CLOCK if draw(st.integers(0, 2)) == 0 else weekly_ranges(draw)
        if ranges:
            exceptions = date_exceptions(draw, ranges, instant)
            working_times.append((draw(st.sampled_from(ZONES)), ranges, exceptions))
    if not working_times:
        working_times.append(("UTC", (schedule.WeeklyRange(0, 0, 1440),), ()))
    staff = draw(
        st.lists(
            st.builds(
                StaffSpec,
                # Mostly with a working time and active: eligible staff meet in the ties.
                working_time=st.sampled_from([None, *range(len(working_times))] * 1)
                | st.integers(min_value=0, max_value=len(working_times) - 1),
                active=st.sampled_from([True, True, True, False]),
                max_open_sessions=st.sampled_from([None, None, 1, 2]),
                open_sessions=st.integers(min_value=0, max_value=2),
                last_assigned_at=st.sampled_from(STAMPS),
            ),
            min_size=2,
            max_size=8,
        )
    )
    return working_times, staff, instant


def build(working_times, staff: list[StaffSpec]) -> None:
    saved = []
    for number, (zone, ranges, exceptions) in enumerate(working_times):
        saved.append(
            working_time_save(
                name=f"Shift {number}",
                timezone=zone,
                hours=schedule.hours_to_config(ranges),
                exceptions=schedule.exceptions_to_config(exceptions),
            )
        )
    for number, spec in enumerate(staff):
        full = spec.max_open_sessions is not None and spec.open_sessions > spec.max_open_sessions
        Staff.objects.create(
            name=f"Staff {number}",
            email=f"staff{number}@example.com",
            working_time=saved[spec.working_time] if spec.working_time is not None else None,
            active=spec.active,
            max_open_sessions=spec.max_open_sessions,
            # never more open sessions than the capacity allows, as the policy guarantees
            open_sessions=spec.max_open_sessions if full else spec.open_sessions,
            last_assigned_at=spec.last_assigned_at,
        )
    AssignmentSettings.objects.update_or_create(
        pk=AssignmentSettings.SINGLETON_ID, defaults={"auto_assign": True, "last_decision_at": None}
    )


@dataclass(frozen=True)
class Verdict:
    staff_id: int | None
    candidates: int | None
    reason: str | None


def verdict_of(decision: policy.Decision) -> Verdict:
    if not decision.assigned:
        assert decision.outcome is policy.Outcome.QUEUED
        return Verdict(None, None, None)
    assert decision.assigned_to is not None
    return Verdict(decision.assigned_to.id, decision.candidates, decision.reason)


def preview_verdict(at: datetime) -> Verdict:
    line = policy.staff_on_duty(at=at)
    if not line:
        return Verdict(None, None, None)
    first = line[0]
    return Verdict(
        first.pk, len(line), policy.describe_reason(previous=first.last_assigned_at, now=at)
    )


def in_a_rolled_back_transaction(action):
    with transaction.atomic():
        result = action()
        transaction.set_rollback(True)
    return result


def new_session(at: datetime) -> ChatSession:
    return ChatSession.objects.create(
        channel="web", customer_id="c-1", created_at=at, last_message_at=at
    )


def decided_on_creation(at: datetime) -> Verdict:
    with decisions.collect() as made:
        session = new_session(at)
    return verdict_of(made.for_session(session.pk))


def decided_step_by_step(at: datetime) -> Verdict:
    session = ChatSession(channel="web", customer_id="c-1", created_at=at, last_message_at=at)
    with decisions.collect():
        AssignmentSettings.objects.filter(pk=1).update(auto_assign=False)  # signal: no decision
        session.save()
        AssignmentSettings.objects.filter(pk=1).update(auto_assign=True)
    return verdict_of(policy._decide_step_by_step(session_id=session.pk, at=at, kind="automatic"))


def decided_from_the_queue(at: datetime) -> Verdict:
    AssignmentSettings.objects.filter(pk=1).update(auto_assign=False)
    new_session(at - timedelta(minutes=5))  # waits: automatic assignment is off
    AssignmentSettings.objects.filter(pk=1).update(auto_assign=True)
    verdict = verdict_of(policy.assign_oldest_waiting(now=at))
    prefix = policy.QUEUE_REASON_PREFIX
    if verdict.reason is not None:
        assert verdict.reason.startswith(prefix)
        return Verdict(verdict.staff_id, verdict.candidates, verdict.reason[len(prefix) :])
    return verdict


def served_first_come_first_served(at: datetime, *, step_by_step: bool) -> Verdict:
    """A new session while an older one waits: the decision (either form) goes to the older
    one, with the queue's reason, and the new one waits."""
    AssignmentSettings.objects.filter(pk=1).update(auto_assign=False)
    older = new_session(at - timedelta(minutes=5))
    newer = ChatSession(channel="web", customer_id="c-2", created_at=at, last_message_at=at)
    newer.save()
    AssignmentSettings.objects.filter(pk=1).update(auto_assign=True)
    if step_by_step:
        decision = policy._decide_step_by_step(session_id=newer.pk, at=at, kind="automatic")
    else:
        decision = policy.session_assign_on_creation(session=newer)
        assert (decision.outcome, decision.session_id) == (policy.Outcome.QUEUED, newer.pk)
        decision = decision.oldest_served or decision
    verdict = verdict_of(decision)
    if verdict.reason is None:
        return verdict
    assert decision.session_id == older.pk
    assert verdict.reason.startswith(policy.QUEUE_REASON_PREFIX)
    return Verdict(
        verdict.staff_id, verdict.candidates, verdict.reason[len(policy.QUEUE_REASON_PREFIX) :]
    )


def on_duty_command_ids(at: datetime) -> list[int]:
    out = io.StringIO()
    call_command("on_duty", "--at", at.isoformat(), "--json", stdout=out)
    return [entry["id"] for entry in json.loads(out.getvalue())]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(store=stores())
# Always tried, whatever the generator draws: ties that only the tie-break decides, across
# two working times whose ids run the other way from the staff's.
@example(
    store=(
        [("UTC", ROUND_THE_CLOCK, ()), ("Asia/Taipei", ROUND_THE_CLOCK, ())],
        [StaffSpec(1, True, None, 0, None), StaffSpec(0, True, None, 0, None)],
        BASE_INSTANTS[0],
    )
)
@example(
    store=(
        [("UTC", ROUND_THE_CLOCK, ()), ("Asia/Taipei", ROUND_THE_CLOCK, ())],
        [StaffSpec(1, True, None, 0, STAMPS[2]), StaffSpec(0, True, 2, 1, STAMPS[2])],
        BASE_INSTANTS[4],
    )
)
# An exception decides: the Taipei shift is closed on its local date (Monday 5 January
# 2026 17:00 in Taipei), and the UTC shift's exception tail from Sunday runs into Monday.
@example(
    store=(
        [
            ("Asia/Taipei", ROUND_THE_CLOCK, (schedule.DateException(date(2026, 1, 5)),)),
            (
                "UTC",
                (schedule.WeeklyRange(0, 600, 1080),),
                (schedule.DateException(date(2026, 1, 4), ((1320, 600),)),),
            ),
        ],
        [StaffSpec(0, True, None, 0, None), StaffSpec(1, True, None, 0, STAMPS[2])],
        BASE_INSTANTS[4],
    )
)
def test_every_path_names_the_same_staff_member_count_and_reason(store):
    working_times, staff, at = store

    def check() -> None:
        build(working_times, staff)
        preview = preview_verdict(at)
        in_line = [member.pk for member in policy.staff_on_duty(at=at)]

        assert on_duty_command_ids(at) == in_line
        assert [entry.staff.pk for entry in next_in_line(at=at, now=at).in_line] == in_line
        assert in_a_rolled_back_transaction(lambda: decided_on_creation(at)) == preview
        assert in_a_rolled_back_transaction(lambda: decided_step_by_step(at)) == preview
        assert in_a_rolled_back_transaction(lambda: decided_from_the_queue(at)) == preview
        for step_by_step in (False, True):
            assert (
                in_a_rolled_back_transaction(
                    lambda form=step_by_step: served_first_come_first_served(at, step_by_step=form)
                )
                == preview
            )

    in_a_rolled_back_transaction(check)


@pytest.mark.parametrize(
    "case",
    [
        lambda ranges, staff: any(
            isinstance(item, schedule.WeeklyRange) and item.past_midnight for item in ranges
        ),
        lambda ranges, staff: any(
            isinstance(item, schedule.DateException) and item.closed for item in ranges
        ),
        lambda ranges, staff: any(
            isinstance(item, schedule.DateException) and any(e < s for s, e in item.ranges)
            for item in ranges
        ),
        lambda ranges, staff: any(not spec.active for spec in staff),
        lambda ranges, staff: any(spec.working_time is None for spec in staff),
        lambda ranges, staff: any(spec.max_open_sessions == spec.open_sessions for spec in staff),
        lambda ranges, staff: sum(spec.last_assigned_at is None for spec in staff) > 1,
        lambda ranges, staff: (
            len({spec.last_assigned_at for spec in staff} - {None}) == 1
            and sum(spec.last_assigned_at is not None for spec in staff) > 1
        ),
    ],
    ids=[
        "past midnight",
        "closed date",
        "exception past midnight",
        "away",
        "no working time",
        "full",
        "never assigned tie",
        "stamp tie",
    ],
)
def test_the_generated_stores_reach_every_case(case):
    """The generator is worth running: it makes each case the rule must handle."""
    found = find(
        stores(),
        lambda store: case([item for _, rs, es in store[0] for item in (*rs, *es)], store[1]),
        settings=settings(database=None, max_examples=2000, phases=[Phase.generate]),
    )
    assert found
