"""The demo store: two weeks of a small online shop's chats, replayed through the services.

Working times in three zones (a Taipei day shift, London day and late shifts, a New York
night shift that runs past midnight), eight staff (Amelia is away, Kai takes at most two
chats at once, Nora has no working hours and gets escalations by hand), and automatic
assignment on. The last 14 days are replayed event by event, each at its own instant:
customers write (``ingest_message``), sessions are assigned on creation or wait when nobody
is on duty and are assigned from the queue when a shift starts (``policy.assign_oldest_waiting``),
the manager hands some to Nora (``session_assign_manually``), staff close them
(``session_close``), and staff answer most chats within minutes (staff messages on the
webhook: the first response times). So the admin lists, the assignment reasons and the
fairness numbers are those the product would have produced, whatever the hour the demo is
loaded at.

How it ends, at the moment of loading:
* Amelia went home sick three days ago with two chats open (try ``return_to_queue``);
* 25 minutes ago the manager paused automatic assignment to hand two chats to Kai, who is
  now full; the chats that came in meanwhile wait in the queue (try ``assign_waiting``);
* sessions whose staff have not finished with them yet are open, the rest closed.

Idempotent: the replay runs once, on a store without sessions; every run re-applies the
configuration through the import (so every rule applies) and switches assignment on.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from assignment import config, policy, roles
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import AssignmentSettings, ChatSession
from staff.models import Staff, WorkingTime

HISTORY_DAYS = 14
MANAGER_USERNAME = "manager"
STORE_MANAGER_GROUP = roles.STORE_MANAGER

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DEMO_CONFIG: dict[str, Any] = {
    "auto_assign": True,
    "working_times": [
        {
            "name": "Taipei day",
            "timezone": "Asia/Taipei",
            "hours": {
                **{day: [["09:00", "18:00"]] for day in WEEKDAYS},
                "sat": [["10:00", "14:00"]],
            },
        },
        {
            "name": "London day",
            "timezone": "Europe/London",
            "hours": {
                **{day: [["08:00", "17:00"]] for day in WEEKDAYS},
                "sat": [["10:00", "16:00"]],
            },
        },
        {
            "name": "London late",
            "timezone": "Europe/London",
            "hours": {day: [["14:00", "23:00"]] for day in WEEKDAYS},
        },
        {
            # Sunday to Thursday nights: runs past midnight into Monday to Friday.
            "name": "New York night",
            "timezone": "America/New_York",
            "hours": {day: [["18:00", "02:00"]] for day in ("sun", "mon", "tue", "wed", "thu")},
        },
    ],
    "staff": [
        {"email": "mei@example.com", "name": "Mei Lin", "working_time": "Taipei day"},
        {
            "email": "kai@example.com",
            "name": "Kai Chen",
            "working_time": "Taipei day",
            "max_open_sessions": 2,
        },
        {"email": "oliver@example.com", "name": "Oliver Hughes", "working_time": "London day"},
        {
            "email": "amelia@example.com",
            "name": "Amelia Brown",
            "working_time": "London day",
            "active": False,
        },
        {"email": "harry@example.com", "name": "Harry Patel", "working_time": "London late"},
        {"email": "maya@example.com", "name": "Maya Johnson", "working_time": "New York night"},
        {"email": "leo@example.com", "name": "Leo Garcia", "working_time": "New York night"},
        {"email": "nora@example.com", "name": "Nora Smith", "working_time": None},
    ],
}
AWAY_EMAIL, FULL_EMAIL, ESCALATION_EMAIL = (
    "amelia@example.com",
    "kai@example.com",
    "nora@example.com",
)

_FIRST_NAMES = (
    "Chen Wei", "Sophie", "Lucas", "Grace", "Daniel", "Yuki", "Emma", "Noah", "Aiko", "Mateo",
    "Priya", "Olivia", "Hiro", "Chloe", "Omar", "Isla", "Ethan", "Mina", "Jack", "Lena",
)  # fmt: skip
_LAST_NAMES = ("Turner", "Martin", "Lee", "Kim", "Sato", "Wilson", "Davis", "Wang", "Novak")
_CHANNELS = (("web", "w-"), ("line", "U-"), ("messenger", "m-"), ("whatsapp", "+4470090"))
CUSTOMERS = [
    (channel, f"{prefix}{1000 + index}", f"{first} {_LAST_NAMES[index % len(_LAST_NAMES)]}")
    for index, (first, (channel, prefix)) in enumerate(
        zip(_FIRST_NAMES * 2, itertools.cycle(_CHANNELS), strict=False)
    )
]
OPENERS = (
    "Is the blue jacket back in stock?",
    "My parcel has not arrived yet.",
    "Can I change my delivery address?",
    "Do you ship to Ireland?",
    "I was charged twice.",
    "Do you offer gift wrapping?",
    "Could you send me a return label?",
    "Is there a size guide for the boots?",
    "The discount code does not work.",
    "When will my order ship?",
    "Can I pick it up in the store?",
    "The zip on my bag broke after a week.",
)
FOLLOW_UPS = ("Hello?", "Order number is 10432.", "Thanks!", "Any news?", "Here is a photo.")
REPLIES = (
    "Hi! Let me check that for you.",
    "Thanks for waiting, I'm looking into it now.",
    "Hello, could you give me your order number?",
    "Good question, one moment please.",
)


@dataclass(frozen=True)
class DemoSummary:
    sessions_added: int
    working_times: int
    zones: list[str]
    staff: int
    sessions: int
    open: int
    waiting: int
    closed: int
    auto_assign: bool


def seed_demo(*, now: datetime | None = None, seed: int = 2026) -> DemoSummary:
    """Load the demo store; replays the history only on a store without sessions."""
    now = now or timezone.now()
    with transaction.atomic():
        added = 0
        if not ChatSession.objects.exists():
            added = _StoreReplay(now=now, rng=random.Random(seed)).run()
        config.import_config(DEMO_CONFIG)
    return demo_summary(sessions_added=added)


def demo_summary(*, sessions_added: int = 0) -> DemoSummary:
    sessions = ChatSession.objects.all()
    open_sessions = sessions.filter(status=ChatSession.Status.OPEN)
    return DemoSummary(
        sessions_added=sessions_added,
        working_times=WorkingTime.objects.count(),
        zones=sorted(set(WorkingTime.objects.values_list("timezone", flat=True))),
        staff=Staff.objects.count(),
        sessions=sessions.count(),
        open=open_sessions.count(),
        waiting=open_sessions.filter(assigned_staff__isnull=True).count(),
        closed=sessions.filter(status=ChatSession.Status.CLOSED).count(),
        auto_assign=policy.auto_assign_enabled(),
    )


# --- The manager login ----------------------------------------------------------------------


def ensure_manager(*, username: str = MANAGER_USERNAME) -> tuple[str, str]:
    """Create (or reset) the demo manager login with a fresh random password."""
    password = secrets.token_urlsafe(12)
    user = manager_user(username=username)
    user.set_password(password)
    user.save(update_fields=["password"])
    return username, password


def manager_user(*, username: str = MANAGER_USERNAME):
    """The demo manager: in the "Store manager" group, or a superuser if there is none."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    if created:
        user.set_unusable_password()
    group = _store_manager_group()
    user.is_staff = True
    user.is_superuser = group is None
    user.save()
    if group is not None:
        user.groups.add(group)
    return user


def _store_manager_group() -> Group | None:
    """The role group of ``assignment.roles`` (recreated if a flush removed it)."""
    group = Group.objects.filter(name=STORE_MANAGER_GROUP).first()
    if group is not None:
        return group
    from django.apps import apps

    roles.ensure_roles(apps)
    return Group.objects.filter(name=STORE_MANAGER_GROUP).first()


# --- The replay -----------------------------------------------------------------------------


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    action: Callable[[datetime], None] = field(compare=False)


class _StoreReplay:
    """Two weeks of the store, as a queue of timed events handled in order until ``now``."""

    def __init__(self, *, now: datetime, rng: random.Random) -> None:
        self.now, self.rng = now, rng
        self.start = (now - timedelta(days=HISTORY_DAYS)).replace(minute=0, second=0, microsecond=0)
        self.events: list[_Event] = []
        self.order = itertools.count()
        self.message_numbers = itertools.count(1)
        self.open_sessions: dict[int, tuple[str, str, str]] = {}  # id: the customer
        self.waiting: set[int] = set()
        self.sessions_added = 0
        # Amelia falls ill three days ago: the second chat she gets after that, she leaves.
        self.amelia_falls_ill = now - timedelta(days=3)
        self.amelia_left_open = 0

    def run(self) -> int:
        config.import_config(_config_with_everyone_active())
        # The history starts two weeks ago: no earlier decision may hold its stamps back.
        AssignmentSettings.objects.update(last_decision_at=None)
        self.manager = manager_user()
        self.staff = {member.email: member for member in Staff.objects.all()}
        self.hours = policy.working_time_hours()
        self._plan()
        # ingest_message(now=at) creates each session at ``at``, and the policy decides a new
        # session at its creation instant: the replay needs no clock of its own.
        while self.events:
            event = heapq.heappop(self.events)
            event.action(event.at)
        return self.sessions_added

    def _schedule(self, at: datetime, action: Callable[[datetime], None]) -> None:
        if at <= self.now:
            heapq.heappush(self.events, _Event(at, next(self.order), action))

    def _plan(self) -> None:
        pause = self.now - timedelta(minutes=25)
        hour = self.start
        while hour < pause:
            for _ in range(self.rng.choices((0, 1, 2), weights=(55, 35, 10))[0]):
                at = hour + timedelta(seconds=self.rng.randrange(3600))
                if at < pause:
                    self._schedule(at, self._customer_writes)
            hour += timedelta(hours=1)
        tick = self.start
        while tick <= self.now:  # the queue worker, every quarter of an hour
            self._schedule(tick, self._assign_waiting)
            tick += timedelta(minutes=15)
        # The last scene: assignment paused, chats come in, two of them go to Kai by hand
        # (topped up at the end if one of his earlier chats closed meanwhile).
        self._schedule(pause, self._manager_pauses_assignment)
        for minutes_ago in (22, 17, 12, 8, 3):
            self._schedule(self.now - timedelta(minutes=minutes_ago), self._customer_writes)
        for minutes_ago in (20, 15, 0):
            self._schedule(self.now - timedelta(minutes=minutes_ago), self._hand_to_kai)

    # The events -------------------------------------------------------------------------

    def _customer_writes(self, at: datetime) -> None:
        busy = set(self.open_sessions.values())
        free = [customer for customer in CUSTOMERS if customer not in busy]
        if not free:
            return
        customer = self.rng.choice(free)
        result = self._deliver(customer, self.rng.choice(OPENERS), at)
        self.sessions_added += 1
        self.open_sessions[result.session_id] = customer
        if result.outcome == "assigned":
            member = Staff.objects.get(pk=result.body["session"]["assigned_to"]["id"])
            self._assigned(result.session_id, member, at)
        else:
            self.waiting.add(result.session_id)
            self._served_first_come_first_served(at)
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            delay = timedelta(minutes=self.rng.randrange(2, 40))
            self._schedule(at + delay, functools.partial(self._follow_up, result.session_id))

    def _follow_up(self, session_id: int, at: datetime) -> None:
        if session_id in self.open_sessions:
            self._deliver(self.open_sessions[session_id], self.rng.choice(FOLLOW_UPS), at)

    def _assign_waiting(self, at: datetime) -> None:
        if not self.waiting or not policy.working_times_on_duty(self.hours, at):
            return  # (a shortcut: nobody could take one, so the policy need not be asked)
        # One second apart, as a real worker's clock ticks: equal stamps would all tie, and
        # ties go to the staff member added first.
        for second in itertools.count():
            moment = at + timedelta(seconds=second)
            if not self.waiting:
                return
            decision = policy.assign_oldest_waiting(now=moment)
            if decision.session_id is None or decision.assigned_to is None:
                return
            self.waiting.discard(decision.session_id)
            member = self.staff[decision.assigned_to.email]
            self._assigned(decision.session_id, member, moment)

    def _served_first_come_first_served(self, at: datetime) -> None:
        """A new customer who waits may have given their turn to an older waiting one."""
        served = ChatSession.objects.filter(pk__in=self.waiting, assigned_staff__isnull=False)
        for session in served.select_related("assigned_staff"):
            self.waiting.discard(session.pk)
            assert session.assigned_staff is not None  # the filter says so
            self._assigned(session.pk, session.assigned_staff, at)

    def _assigned(self, session_id: int, member: Staff, at: datetime) -> None:
        if member.email == AWAY_EMAIL and at >= self.amelia_falls_ill:
            self._amelia_keeps(at)
            return
        # Most chats get a first answer within minutes; one in ten is left unanswered.
        if self.rng.random() < 0.9:
            delay = timedelta(seconds=self.rng.randrange(20, 9 * 60))
            self._schedule(at + delay, functools.partial(self._staff_replies, session_id))
        self._schedule(
            at + timedelta(minutes=self.rng.randrange(12, 150)), self._closer(session_id)
        )
        if member.email != ESCALATION_EMAIL and self.rng.random() < 0.08:
            delay = timedelta(minutes=self.rng.randrange(3, 10))
            self._schedule(at + delay, lambda when: self._escalate(session_id, when))

    def _amelia_keeps(self, at: datetime) -> None:
        """She is not well: the chat stays open; after the second she goes home."""
        self.amelia_left_open += 1
        if self.amelia_left_open == 2:
            self._schedule(at + timedelta(minutes=7), self._amelia_goes_home)

    def _amelia_goes_home(self, at: datetime) -> None:
        member = Staff.objects.get(email=AWAY_EMAIL)  # fresh: the save writes every field
        config.staff_save_checked(
            email=member.email,
            name=member.name,
            working_time=member.working_time,
            active=False,
            max_open_sessions=member.max_open_sessions,
            staff=member,
        )

    def _closer(self, session_id: int) -> Callable[[datetime], None]:
        def close(at: datetime) -> None:
            session = ChatSession.objects.select_related("assigned_staff").get(pk=session_id)
            if session.assigned_staff is not None and not session.assigned_staff.active:
                return  # an away staff member closes nothing; their chats wait for return
            if policy.session_close(session=session, now=at):
                self.open_sessions.pop(session_id, None)

        return close

    def _escalate(self, session_id: int, at: datetime) -> None:
        if session_id in self.open_sessions:
            session = ChatSession.objects.get(pk=session_id)
            policy.session_assign_manually(
                session=session,
                staff=self.staff[ESCALATION_EMAIL],
                assigned_by=self.manager,
                now=at,
            )

    def _manager_pauses_assignment(self, at: datetime) -> None:
        config.auto_assign_set(enabled=False)

    def _hand_to_kai(self, at: datetime) -> None:
        """The manager gives Kai the oldest waiting chat, if he has room for it."""
        kai = Staff.objects.get(email=FULL_EMAIL)
        session = policy.waiting_sessions().first()
        if kai.has_room and session is not None:
            policy.session_assign_manually(
                session=session, staff=kai, assigned_by=self.manager, now=at
            )
            self.waiting.discard(session.pk)

    def _staff_replies(self, session_id: int, at: datetime) -> None:
        """Whoever has the chat now answers it (a staff message on the webhook)."""
        session = ChatSession.objects.select_related("assigned_staff").get(pk=session_id)
        member = session.assigned_staff
        if session.status != ChatSession.Status.OPEN or member is None or not member.active:
            return
        channel, customer_id, _name = self.open_sessions[session_id]
        incoming = IncomingMessage(
            message_id=f"demo-{next(self.message_numbers):05d}",
            customer_id=customer_id,
            channel=channel,
            text=self.rng.choice(REPLIES),
            sent_at=at - timedelta(seconds=1),
            author="staff",
            staff_email=member.email,
        )
        ingest_message(incoming=incoming, now=at)

    def _deliver(self, customer: tuple[str, str, str], text: str, at: datetime):
        channel, customer_id, name = customer
        incoming = IncomingMessage(
            message_id=f"demo-{next(self.message_numbers):05d}",
            customer_id=customer_id,
            channel=channel,
            customer_name=name,
            text=text,
            sent_at=at - timedelta(seconds=2),
        )
        return ingest_message(incoming=incoming, now=at)


def _config_with_everyone_active() -> dict[str, Any]:
    """The demo configuration as it was two weeks ago: Amelia at work, assignment on."""
    return {
        **DEMO_CONFIG,
        "auto_assign": True,
        "staff": [{**entry, "active": True} for entry in DEMO_CONFIG["staff"]],
    }
