"""Nobody left unanswered: the hand-overs the queue worker (``assign_waiting``) makes.

Three settings on the assignment settings row, each off by default, each applied only
while automatic assignment is on (the queue that serves what they free is not run while
it is off):

* ``reassign_unanswered_after_minutes`` (N): a session assigned N minutes ago with no
  staff message since that assignment goes to the next staff member in line other than
  its current one (``reassign_session``); if nobody else is on duty with room, it stays.
  **At most once per staff member per session**: a session is never given back to
  anyone who already let it go unanswered, so it moves on at most once per staff member
  and then stays with the last one.
* ``return_unanswered_at_shift_end``: a session assigned while its staff member's working
  time was on duty, still unanswered, goes back to the waiting queue once that working
  time is no longer on duty (``return_unanswered_after_shift``). A session a manager gave
  to someone off duty is left alone: their hours did not end, they were not working.
* ``return_open_sessions_when_away``: every open session of a staff member marked away goes back
  to the waiting queue (``return_sessions_of_away_staff``).

Who is on duty and who is next come from the rule in ``assignment.policy``
(``working_times_on_duty``, ``staff_in_line``); each hand-over takes the assignment lock
first and then locks the session rows, as a staff reply's UPDATE does (ingestion): a reply
that commits first makes the session answered, and the hand-over, re-reading it under the
lock, leaves it alone; a reply that comes second joins the session where the hand-over
put it. Every reassignment is one call of ``reassign_session`` and every return one call
of ``returns.return_sessions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.utils import timezone

from assignment import policy, returns
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession
from events import outbox
from staff.models import Staff

REASSIGNED_PREFIX = "reassigned: "


@dataclass(frozen=True)
class Reassignment:
    """A session given to the next staff member because its previous one did not answer."""

    session_id: int
    passed_over: policy.AssignedStaff
    assigned_to: policy.AssignedStaff
    assigned_at: datetime
    reason: str
    candidates: int
    event_id: int


@dataclass(frozen=True)
class Returned:
    """Sessions taken back from one staff member into the waiting queue."""

    staff_id: int
    session_ids: list[int]
    reason: str


@dataclass(frozen=True)
class HandoverSettings:
    reassign_after: timedelta | None
    return_at_shift_end: bool
    return_when_away: bool

    @property
    def any(self) -> bool:
        return self.reassign_after is not None or self.return_at_shift_end or self.return_when_away


@dataclass(frozen=True)
class HandoverRun:
    returned: list[Returned]
    reassigned: list[Reassignment]

    @property
    def count(self) -> int:
        return sum(len(item.session_ids) for item in self.returned) + len(self.reassigned)


# --- Selectors -------------------------------------------------------------------------------


def handover_settings() -> HandoverSettings:
    """The hand-over settings in force: all off while automatic assignment is off."""
    row = AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID).first()
    if row is None or not row.auto_assign:
        return HandoverSettings(None, False, False)
    minutes = row.reassign_unanswered_after_minutes
    return HandoverSettings(
        timedelta(minutes=minutes) if minutes else None,
        row.return_unanswered_at_shift_end,
        row.return_open_sessions_when_away,
    )


def unanswered() -> Q:
    """An assigned session with no staff message since its assignment (open or not)."""
    return Q(assigned_staff__isnull=False) & (
        Q(last_staff_message_at__isnull=True) | Q(last_staff_message_at__lt=F("assigned_at"))
    )


def unanswered_sessions() -> QuerySet[ChatSession]:
    """Open sessions nobody answered since their assignment, the longest assigned first."""
    return (
        ChatSession.objects.filter(status=ChatSession.Status.OPEN)
        .filter(unanswered())
        .order_by("assigned_at", "id")
    )


def staff_who_let_it_go(session_id: int) -> set[int]:
    """Everyone a session was already reassigned away from: it never goes back to them."""
    return set(
        AssignmentEvent.objects.filter(
            session_id=session_id, kind=AssignmentEvent.Kind.REASSIGNED
        ).values_list("reassigned_from_id", flat=True)
    )


# --- Reassigning unanswered sessions ---------------------------------------------------------


def reassign_unanswered(*, now: datetime, after: timedelta) -> list[Reassignment]:
    """Reassign every session unanswered for ``after``, one transaction each."""
    due = unanswered_sessions().filter(assigned_at__lte=now - after)
    done = []
    for session_id in list(due.values_list("id", flat=True)):
        reassignment = reassign_session(session_id=session_id, now=now, after=after)
        if reassignment is not None:
            done.append(reassignment)
    return done


def reassign_session(*, session_id: int, now: datetime, after: timedelta) -> Reassignment | None:
    """Give a session nobody answered for ``after`` to the next staff member in line other
    than those who let it go unanswered; None when it was answered, closed or moved
    meanwhile, or nobody else is on duty with room (it stays where it is).

    Counts as the next staff member's assignment (stamped like every decision); the one
    passed over keeps their place in line (their last assignment is not touched) and gets
    the room back.
    """
    with transaction.atomic():
        settings_row = policy.lock_assignment_settings()
        if not settings_row.auto_assign:
            return None
        session = (
            unanswered_sessions()
            .filter(pk=session_id, assigned_at__lte=now - after)
            .select_for_update(of=("self",))
            .select_related("assigned_staff")
            .first()
        )
        if session is None or session.assigned_staff is None or session.assigned_at is None:
            return None
        previous_staff = session.assigned_staff
        excluded = staff_who_let_it_go(session.pk) | {previous_staff.pk}
        on_duty = policy.working_times_on_duty(policy.working_time_hours(), now)
        chosen = (
            policy.staff_in_line(on_duty_working_time_ids=on_duty)
            .exclude(pk__in=excluded)
            .annotate(candidate_count=Window(Count("id")))
            .values_list("id", "name", "email", "last_assigned_at", "candidate_count")
            .first()
        )
        if chosen is None:
            return None
        staff_id, name, email, previous, candidates = chosen
        stamp = policy.decision_stamp(previous_stamp=settings_row.last_decision_at, at=now)
        reason = describe_reassignment(
            passed_over=previous_staff.name,
            unanswered_for=now - session.assigned_at,
            previous=previous,
            stamp=stamp,
        )
        policy.release_open_session(staff_id=previous_staff.pk)
        policy.record_assignment(session_id=session.pk, staff_id=staff_id, stamp=stamp)
        event = AssignmentEvent.objects.create(
            session=session,
            staff_id=staff_id,
            kind=AssignmentEvent.Kind.REASSIGNED,
            reason=reason,
            candidates=candidates,
            reassigned_from=previous_staff,
            created_at=stamp,
        )
        outbox.session_assigned(
            session_id=session.pk,
            staff=policy.AssignedStaff(staff_id, name, email),
            kind=AssignmentEvent.Kind.QUEUE,
            reason=reason,
            candidates=candidates,
            by=None,
            at=stamp,
            reassigned_from=previous_staff,
        )
    return Reassignment(
        session_id=session.pk,
        passed_over=policy.AssignedStaff(
            previous_staff.pk, previous_staff.name, previous_staff.email
        ),
        assigned_to=policy.AssignedStaff(staff_id, name, email),
        assigned_at=stamp,
        reason=reason,
        candidates=candidates,
        event_id=event.pk,
    )


def describe_reassignment(
    *, passed_over: str, unanswered_for: timedelta, previous: datetime | None, stamp: datetime
) -> str:
    """ "reassigned: Alice did not answer for 12 min; last assigned 3 h ago"."""
    why = policy.describe_reason(previous=previous, now=stamp)
    reason = (
        f"{REASSIGNED_PREFIX}{passed_over} did not answer for "
        f"{policy.describe_duration(unanswered_for)}; {why}"
    )
    return reason[: AssignmentEvent._meta.get_field("reason").max_length]


# --- Returning sessions to the queue ---------------------------------------------------------


def return_unanswered_after_shift(*, now: datetime) -> list[Returned]:
    """Return the unanswered sessions of staff whose working hours ended since the session
    was assigned to them (on duty at ``assigned_at``, not at ``now``)."""
    hours = policy.working_time_hours()
    on_duty_now = set(policy.working_times_on_duty(hours, now))
    by_working_time = {working_time.id: working_time for working_time in hours}
    candidates = (
        unanswered_sessions()
        .filter(assigned_staff__working_time__isnull=False)
        .exclude(assigned_staff__working_time_id__in=on_duty_now)
        .values_list("assigned_staff_id", "assigned_staff__working_time_id", "id", "assigned_at")
    )
    due: dict[int, list[int]] = {}
    for staff_id, working_time_id, session_id, assigned_at in candidates:
        working_time = by_working_time.get(working_time_id)
        if working_time is not None and assigned_at and working_time.on_duty(assigned_at):
            due.setdefault(staff_id, []).append(session_id)
    returned = []
    for staff_id, session_ids in due.items():
        done = _return_after_shift(staff_id=staff_id, session_ids=session_ids, now=now)
        if done is not None:
            returned.append(done)
    return returned


def _return_after_shift(*, staff_id: int, session_ids: list[int], now: datetime) -> Returned | None:
    with transaction.atomic():
        if not policy.lock_assignment_settings().auto_assign:
            return None
        member = Staff.objects.select_related("working_time").get(pk=staff_id)
        # Re-read under the locks: a reply that committed meanwhile answered the session.
        sessions = list(
            unanswered_sessions()
            .filter(pk__in=session_ids, assigned_staff_id=staff_id)
            .select_for_update(of=("self",))
        )
        shift = member.working_time.name if member.working_time else "their working time"
        reason = (
            f"returned to the waiting queue: {member.name}'s working hours ({shift}) ended "
            "with it unanswered"
        )
        ids = returns.return_sessions(member=member, sessions=sessions, reason=reason, now=now)
    return Returned(staff_id, ids, reason) if ids else None


def return_sessions_of_away_staff(*, now: datetime) -> list[Returned]:
    """Return every open session of each staff member marked away."""
    away = (
        ChatSession.objects.filter(status=ChatSession.Status.OPEN, assigned_staff__active=False)
        .values_list("assigned_staff_id", flat=True)
        .distinct()
    )
    returned = []
    for staff_id in sorted(set(away)):
        member = Staff.objects.get(pk=staff_id)
        try:
            ids = returns.return_to_queue(staff=member, now=now)
        except returns.ReturnRefused:  # marked available again meanwhile
            continue
        if ids:
            returned.append(Returned(staff_id, ids, f"{member.name} is away"))
    return returned


# --- One run -----------------------------------------------------------------------------------


def hand_over_due(*, now: datetime | None = None) -> HandoverRun:
    """Every hand-over due at ``now`` (default: the clock), in this order: sessions of away
    staff and of ended shifts back to the queue, then reassignments of unanswered ones."""
    now = now or timezone.now()
    settings = handover_settings()
    returned: list[Returned] = []
    if settings.return_when_away:
        returned += return_sessions_of_away_staff(now=now)
    if settings.return_at_shift_end:
        returned += return_unanswered_after_shift(now=now)
    reassigned = (
        reassign_unanswered(now=now, after=settings.reassign_after)
        if settings.reassign_after is not None
        else []
    )
    return HandoverRun(returned, reassigned)
