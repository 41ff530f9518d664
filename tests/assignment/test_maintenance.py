"""The operations commands: assign_waiting (one-shot and --loop), close_idle_sessions,
return_to_queue, and the demo store that seed_demo loads."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import F

from assignment import config, demo, durations, idle_sessions, policy, queue_worker
from assignment.ingestion import IncomingMessage, ingest_message
from assignment.models import AssignmentEvent, ChatSession
from staff.models import Staff
from tests.conftest import on_postgres
from tests.factories import ChatSessionFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr is when a person runs a command."""

    def isatty(self) -> bool:
        return True


def run(command: str, *args: str, stderr: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def waiting_sessions(count: int, *, start: datetime = NOW) -> list[ChatSession]:
    """``count`` sessions that wait in the queue (created while auto-assignment is off)."""
    config.auto_assign_set(enabled=False)
    sessions = [
        ChatSessionFactory(created_at=start + timedelta(minutes=minute)) for minute in range(count)
    ]
    config.auto_assign_set(enabled=True)
    return sessions


def snapshot() -> tuple[list, list, list]:
    """Everything these commands may change, to assert that a refusal changed nothing."""
    return (
        list(ChatSession.objects.order_by("id").values()),
        list(Staff.objects.order_by("id").values()),
        list(AssignmentEvent.objects.order_by("id").values()),
    )


def open_counts() -> dict[str, int]:
    return dict(Staff.objects.values_list("email", "open_sessions"))


class SignalNotHandled(Exception):
    pass


@pytest.fixture
def signal_safety_net():
    """Handlers for SIGTERM/SIGINT that raise: a command that fails to install its own
    fails the test at once, instead of killing the test run or idling forever."""

    def unhandled(number, frame):
        raise SignalNotHandled(signal.Signals(number).name)

    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in previous:
        signal.signal(number, unhandled)
    yield unhandled
    for number, handler in previous.items():
        signal.signal(number, handler)


@pytest.fixture
def watchdog(monkeypatch):
    """Stops any worker still running after 10 s, so a broken stop fails instead of hanging."""
    real_run = queue_worker.QueueWorker.run

    def run_with_watchdog(worker):
        timer = threading.Timer(10, worker.stop)
        timer.start()
        try:
            return real_run(worker)
        finally:
            timer.cancel()

    monkeypatch.setattr(queue_worker.QueueWorker, "run", run_with_watchdog)


# --- Durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("90s", timedelta(seconds=90)),
        ("1d12h", timedelta(hours=36)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_durations_take_a_number_and_a_unit(text, expected):
    assert durations.parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "24", "h", "1.5h", "-2h", "2 h", "2w", "0m", "1h-", "tomorrow", "9999999999d", "\u0663m"],
)
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(ValueError):
        durations.parse_duration(text)


# --- assign_waiting: the one-shot form ---------------------------------------------------------


def test_assign_waiting_json_reports_the_counts(cast):
    waiting_sessions(4)
    Staff.objects.update(max_open_sessions=1)

    result = json.loads(run("assign_waiting", "--json"))

    assert result == {"auto_assign": True, "assigned": 3, "waiting": 1}


def test_assign_waiting_json_while_auto_assign_is_off(cast):
    waiting_sessions(2)
    config.auto_assign_set(enabled=False)

    result = json.loads(run("assign_waiting", "--json"))

    assert result == {"auto_assign": False, "assigned": 0, "waiting": 2}
    assert not AssignmentEvent.objects.exists()


def test_assign_waiting_prints_nothing_at_verbosity_0(cast):
    sessions = waiting_sessions(2)

    assert run("assign_waiting", "--verbosity", "0") == ""
    assert (
        ChatSession.objects.filter(pk__in=[s.pk for s in sessions], assigned_staff=None).count()
        == 0
    )


def test_assign_waiting_shows_progress_on_a_terminal(cast):
    waiting_sessions(3)
    terminal = Terminal()

    run("assign_waiting", stderr=terminal)

    drawn = terminal.getvalue()
    assert drawn.startswith("\rAssigning waiting sessions: ")
    assert "3 of 3 (100%)" in drawn
    assert drawn.endswith("\n")


def test_assign_waiting_is_quiet_on_stderr_without_a_terminal(cast):
    waiting_sessions(3)
    stderr = io.StringIO()

    output = run("assign_waiting", stderr=stderr)

    assert output == "Assigned 3 waiting sessions; 0 still waiting.\n"
    assert stderr.getvalue() == ""


def test_assign_waiting_turns_a_database_outage_into_a_clear_error(cast, monkeypatch):
    waiting_sessions(2)

    def refuse(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(policy, "assign_oldest_waiting", refuse)
    with pytest.raises(CommandError, match="^The database is unavailable: connection refused$"):
        run("assign_waiting")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0"], "--interval 0 must be more than 0 and at most 3600."),
        (["--interval", "-1"], "--interval -1 must be more than 0 and at most 3600."),
        (["--max-backoff", "0.5"], "--max-backoff 0.5 must be between 1 and 3600."),
        (["--interval", "soon"], "argument --interval: invalid float value: 'soon'"),
        (["--loop", "--json"], "argument --json: not allowed with argument --loop"),
    ],
)
def test_assign_waiting_refuses_bad_options_and_assigns_nothing(cast, args, message):
    waiting_sessions(2)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        run("assign_waiting", *args)

    assert message in str(caught.value)
    assert snapshot() == before


def test_a_signal_stops_the_one_shot_drain_between_sessions(cast, signal_safety_net):
    sessions = waiting_sessions(5)

    with sigterm_while_recording_assignment(2):
        output = run("assign_waiting")

    assert output == "Assigned 2 waiting sessions; 3 still waiting.\n"
    assert_completely_assigned(sessions[:2])
    assert signal.getsignal(signal.SIGTERM) is signal_safety_net  # restored


# --- assign_waiting --loop: the worker -----------------------------------------------------------


@contextmanager
def sigterm_while_recording_assignment(number: int):
    """SIGTERM to this process as the ``number``-th queue decision is returned (committed).
    The worker must finish that session, then stop."""
    decided = []
    real_assign = policy.assign_oldest_waiting

    def assign_then_signal(**kwargs):
        decision = real_assign(**kwargs)
        decided.append(decision)
        if len(decided) == number:
            os.kill(os.getpid(), signal.SIGTERM)
        return decision

    with mock.patch.object(policy, "assign_oldest_waiting", assign_then_signal):
        yield


def assert_completely_assigned(sessions: list[ChatSession]) -> None:
    for session in sessions:
        session.refresh_from_db()
        assert session.assigned_staff_id is not None
        assert session.assigned_at is not None
        event = AssignmentEvent.objects.get(session=session)
        assert event.staff_id == session.assigned_staff_id
    actual = {
        member.email: member.sessions.filter(status="open").count()
        for member in Staff.objects.all()
    }
    assert open_counts() == actual


def test_sigterm_stops_the_worker_between_two_sessions(cast, signal_safety_net, watchdog):
    sessions = waiting_sessions(5)

    with sigterm_while_recording_assignment(2):
        output = run("assign_waiting", "--loop", "--interval", "0.01")

    assert output == "Stopped after assigning 2 waiting sessions.\n"
    # The session being assigned when the signal came was finished, nothing after it.
    assert_completely_assigned(sessions[:2])
    assert [s.pk for s in policy.waiting_sessions()] == [s.pk for s in sessions[2:]]
    assert signal.getsignal(signal.SIGTERM) is signal_safety_net  # the worker's is gone again


def test_sigint_wakes_an_idle_worker_at_once(cast, signal_safety_net, watchdog):
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()

    output = run("assign_waiting", "--loop", "--interval", "30")

    assert output == "Stopped after assigning 0 waiting sessions.\n"
    assert time.monotonic() - started < 10
    assert signal.getsignal(signal.SIGINT) is signal_safety_net


def test_the_worker_assigns_what_arrives_while_it_runs(cast):
    config.auto_assign_set(enabled=False)
    ChatSessionFactory()
    config.auto_assign_set(enabled=True)
    worker = queue_worker.QueueWorker(idle_interval=0.01)
    calls = []

    def handle_one() -> bool:
        calls.append(1)
        if len(calls) == 3:  # idle twice, then a session comes in while auto-assign was off
            config.auto_assign_set(enabled=False)
            ChatSessionFactory()
            config.auto_assign_set(enabled=True)
        if len(calls) == 6:
            worker.stop()
        return queue_worker.handle_one_waiting()

    worker.handle_one = handle_one

    assert worker.run() == 2
    assert not policy.waiting_sessions().exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_reconnects_after_the_database_went_away(cast, monkeypatch, caplog):
    sessions = waiting_sessions(3)
    failures = [OperationalError("server closed the connection unexpectedly")] * 2
    real_assign = policy.assign_oldest_waiting
    closed = []
    real_close = connection.close

    def flaky_assign(**kwargs):
        if failures:
            raise failures.pop()
        return real_assign(**kwargs)

    def spy_close():
        closed.append(1)
        real_close()

    monkeypatch.setattr(policy, "assign_oldest_waiting", flaky_assign)
    monkeypatch.setattr(connection, "close", spy_close)
    worker = queue_worker.QueueWorker(idle_interval=0.01, first_backoff=0.01, max_backoff=0.02)
    real_handle = queue_worker.handle_one_waiting

    def handle_one() -> bool:
        worked = real_handle()
        if not worked:
            worker.stop()
        return worked

    worker.handle_one = handle_one

    assert worker.run() == 3
    assert worker.database_errors == 2
    assert len(closed) == 2  # the connection was dropped after each failure
    assert_completely_assigned(sessions)
    warnings = [
        r for r in caplog.records if r.name == "chatassist.worker" and r.levelname == "WARNING"
    ]
    assert [r.retry_in_s for r in warnings] == [0.01, 0.02]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_its_postgres_connection_being_killed(cast):
    """A real lost connection: another session terminates the worker's backend."""
    import psycopg

    assert on_postgres()
    sessions = waiting_sessions(3)
    settings = connection.settings_dict
    admin = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )
    worker = queue_worker.QueueWorker(idle_interval=0.01, first_backoff=0.05, max_backoff=0.1)
    killed = []

    def handle_one() -> bool:
        if not killed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                killed.append(cursor.fetchone()[0])
            admin.execute("SELECT pg_terminate_backend(%s)", [killed[0]])
        worked = queue_worker.handle_one_waiting()
        if not worked:
            worker.stop()
        return worked

    worker.handle_one = handle_one
    try:
        assert worker.run() == 3
    finally:
        admin.close()

    assert worker.database_errors == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != killed[0]
    assert_completely_assigned(sessions)


def test_other_database_errors_stop_the_worker(cast, monkeypatch):
    from django.db import IntegrityError

    def broken(**kwargs):
        raise IntegrityError("a bug, not an outage")

    monkeypatch.setattr(policy, "assign_oldest_waiting", broken)

    with pytest.raises(IntegrityError):
        queue_worker.QueueWorker(idle_interval=0.01).run()


# --- close_idle_sessions -----------------------------------------------------------------------


def session_with_last_message(*, ago: timedelta, customer: str, now: datetime) -> ChatSession:
    return ChatSessionFactory(
        customer_id=customer, created_at=now - ago - timedelta(hours=1), last_message_at=now - ago
    )


@pytest.fixture
def idle_store(cast, auto_assign_on):
    """Sessions at several ages of silence, relative to the real clock."""
    from django.utils import timezone

    now = timezone.now()
    sessions = {
        name: session_with_last_message(ago=ago, customer=name, now=now)
        for name, ago in [
            ("three-days", timedelta(days=3)),
            ("a-day-and-a-bit", timedelta(hours=24, minutes=5)),
            ("an-hour", timedelta(hours=1)),
            ("just-now", timedelta(seconds=5)),
        ]
    }
    config.auto_assign_set(enabled=False)
    sessions["waiting-two-days"] = session_with_last_message(
        ago=timedelta(days=2), customer="waiting-two-days", now=now
    )
    config.auto_assign_set(enabled=True)
    closed = session_with_last_message(ago=timedelta(days=5), customer="closed", now=now)
    policy.session_close(session=closed, now=now - timedelta(days=4))
    return sessions


def test_close_idle_sessions_closes_only_those_silent_for_that_long(idle_store):
    before = open_counts()

    output = run("close_idle_sessions", "--idle-for", "24h")

    assert output.startswith("Closed 3 idle sessions (no message for 1 d 0 h, since ")
    closed = set(ChatSession.objects.filter(status="closed").values_list("customer_id", flat=True))
    assert closed == {"three-days", "a-day-and-a-bit", "waiting-two-days", "closed"}
    # Capacity is freed for the two that had a staff member, and only for them.
    assert sum(before.values()) - sum(open_counts().values()) == 2
    assert_completely_assigned(
        list(ChatSession.objects.filter(status="open", assigned_staff__isnull=False))
    )


def test_close_idle_sessions_json_lists_the_ids(idle_store):
    result = json.loads(run("close_idle_sessions", "--idle-for", "30m", "--json"))

    expected = [
        idle_store[name].pk
        for name in ("three-days", "waiting-two-days", "a-day-and-a-bit", "an-hour")
    ]
    assert result["session_ids"] == expected  # least recently active first
    assert result["closed"] == 4
    assert result["dry_run"] is False
    assert result["idle_for_seconds"] == 1800
    assert result["cutoff"].endswith("Z")


def test_close_idle_sessions_dry_run_changes_nothing(idle_store):
    before = snapshot()

    output = run("close_idle_sessions", "--idle-for", "2d", "--dry-run")
    as_json = json.loads(run("close_idle_sessions", "--idle-for", "2d", "--dry-run", "--json"))

    assert output.startswith("Would close 2 idle sessions (no message for 2 d 0 h, since ")
    assert output.endswith("; nothing changed (--dry-run).\n")
    assert as_json["closed"] == 2 and as_json["dry_run"] is True
    assert snapshot() == before


def test_a_message_that_arrives_meanwhile_keeps_its_session_open(idle_store):
    from django.utils import timezone

    idle = idle_sessions.idle_sessions(idle_for=timedelta(hours=24))
    session = idle_store["three-days"]
    ingest_message(
        incoming=IncomingMessage(message_id="late", customer_id="three-days", channel="web"),
        now=timezone.now(),
    )

    closed = idle_sessions.close_idle_sessions(idle=idle)

    assert session.pk not in closed
    session.refresh_from_db()
    assert session.status == "open"
    assert len(closed) == 2


def test_close_idle_sessions_with_nothing_idle(idle_store):
    assert run("close_idle_sessions", "--idle-for", "7d").startswith("Closed 0 idle sessions")


def test_close_idle_sessions_shows_progress_only_on_a_terminal(idle_store):
    terminal = Terminal()
    run("close_idle_sessions", "--idle-for", "24h", stderr=terminal)

    assert "Closing idle sessions: 3 of 3 (100%)" in terminal.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idle-for", "24"], "--idle-for: '24' is not a duration: use a whole number and a unit"),
        (["--idle-for", "0h"], "--idle-for: '0h' is not longer than zero."),
        (["--idle-for", "soon"], "--idle-for: 'soon' is not a duration"),
        ([], "the following arguments are required: --idle-for"),
    ],
)
def test_close_idle_sessions_refuses_a_bad_duration_and_changes_nothing(idle_store, args, message):
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        run("close_idle_sessions", *args)

    assert message in str(caught.value)
    assert snapshot() == before


# --- return_to_queue ---------------------------------------------------------------------------


@pytest.fixture
def dave_went_home(cast, auto_assign_on, always_on):
    """Dave had three open sessions and one closed one when he was marked away."""
    dave = StaffFactory(name="Dave", email="dave@example.com", working_time=always_on)
    config.auto_assign_set(enabled=False)
    mine = []
    for minute in range(4):
        session = ChatSessionFactory(created_at=NOW + timedelta(minutes=minute))
        policy.session_assign_manually(session=session, staff=dave, assigned_by=None)
        mine.append(session)
    policy.session_close(session=mine[3], now=NOW + timedelta(hours=1))
    config.auto_assign_set(enabled=True)
    config.staff_save_checked(
        email="dave@example.com",
        name="Dave",
        working_time=always_on,
        active=False,
        staff=Staff.objects.get(pk=dave.pk),
    )
    return mine


def test_return_to_queue_puts_an_away_staff_members_sessions_back(dave_went_home):
    open_ones = dave_went_home[:3]

    output = run("return_to_queue", "--staff", "dave@example.com")

    ids = ", ".join(f"#{s.pk}" for s in open_ones)
    assert output == (
        f"Returned 3 open sessions of Dave <dave@example.com> to the waiting queue ({ids}); "
        "assign_waiting (or its worker) will assign them.\n"
    )
    assert [s.pk for s in policy.waiting_sessions()] == [s.pk for s in open_ones]
    assert Staff.objects.get(email="dave@example.com").open_sessions == 0
    events = AssignmentEvent.objects.filter(kind=AssignmentEvent.Kind.RETURNED).order_by(
        "session_id"
    )
    assert [(e.session_id, e.staff.email, e.reason) for e in events] == [
        (s.pk, "dave@example.com", "returned to the waiting queue: Dave is away") for s in open_ones
    ]
    assert (
        ChatSession.objects.get(pk=dave_went_home[3].pk).assigned_staff.email == "dave@example.com"
    )


def test_assign_waiting_then_spreads_them_over_the_staff_on_duty(dave_went_home):
    run("return_to_queue", "--staff", "dave@example.com")

    run("assign_waiting")

    owners = [ChatSession.objects.get(pk=s.pk).assigned_staff.name for s in dave_went_home[:3]]
    assert sorted(owners) == ["Alice", "Bob", "Carol"]
    assert open_counts() == {
        "alice@example.com": 1,
        "bob@example.com": 1,
        "carol@example.com": 1,
        "dave@example.com": 0,
    }


def test_return_to_queue_json(dave_went_home):
    result = json.loads(run("return_to_queue", "--staff", "DAVE@example.com", "--json"))

    dave = Staff.objects.get(email="dave@example.com")
    assert result == {
        "staff": {"id": dave.pk, "name": "Dave", "email": "dave@example.com", "active": False},
        "returned": 3,
        "session_ids": [s.pk for s in dave_went_home[:3]],
    }


def test_return_to_queue_with_nothing_to_return(dave_went_home):
    run("return_to_queue", "--staff", "dave@example.com")
    before = snapshot()

    output = run("return_to_queue", "--staff", "dave@example.com")

    assert output == "Dave <dave@example.com> has no open sessions: nothing returned.\n"
    assert snapshot() == before


def test_return_to_queue_while_auto_assign_is_off_says_a_manager_assigns_them(dave_went_home):
    config.auto_assign_set(enabled=False)

    output = run("return_to_queue", "--staff", "dave@example.com")

    assert output.endswith("automatic assignment is off: a manager assigns them.\n")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (
            "nobody@example.com",
            "Nothing returned. No staff member has the email address 'nobody@example.com'.",
        ),
        (
            "alice@example.com",
            "Nothing returned. Alice <alice@example.com> is not away. Mark "
            "them away first, or use --force to return their sessions anyway.",
        ),
    ],
)
def test_return_to_queue_refuses_unknown_or_active_staff_and_changes_nothing(
    dave_went_home, email, message
):
    ChatSessionFactory()  # Alice has an open session
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        run("return_to_queue", "--staff", email)

    assert str(caught.value) == message
    assert snapshot() == before


def test_return_to_queue_without_staff_is_a_usage_error(cast):
    with pytest.raises(CommandError, match="the following arguments are required: --staff"):
        run("return_to_queue")


def test_return_to_queue_force_takes_them_from_an_active_staff_member(cast, auto_assign_on):
    session = ChatSessionFactory()
    session.refresh_from_db()
    assert session.assigned_staff.email == "alice@example.com"

    run("return_to_queue", "--staff", "alice@example.com", "--force")

    session.refresh_from_db()
    assert session.assigned_staff is None and session.assigned_at is None
    assert open_counts()["alice@example.com"] == 0
    assert AssignmentEvent.objects.get(kind="returned").reason == (
        "returned to the waiting queue by an operator (Alice is not away)"
    )


# --- The demo store ----------------------------------------------------------------------------


def assert_bookkeeping_is_exact() -> None:
    for member in Staff.objects.all():
        assert member.open_sessions == member.sessions.filter(status="open").count(), member


def test_seed_demo_loads_once_and_prints_a_new_manager_password_each_time():
    first = run("seed_demo", "--manager", "--url", "http://127.0.0.1:8123/admin/")
    config_after_first = config.export_config()
    sessions_after_first = list(ChatSession.objects.order_by("id").values_list("id", "status"))
    second = run("seed_demo", "--manager", "--url", "http://127.0.0.1:8123/admin/")

    assert "Demo store ready (replayed 14 days" in first
    assert "Demo store ready (already loaded, configuration re-applied)" in second
    passwords = [
        line.rsplit(" / ", 1)[1]
        for line in (first + second).splitlines()
        if line.startswith("Open http://127.0.0.1:8123/admin/ and log in as manager / ")
    ]
    assert len(passwords) == 2 and passwords[0] != passwords[1]
    assert len(passwords[1]) >= 16
    manager = get_user_model().objects.get(username="manager")
    assert manager.check_password(passwords[1]) and not manager.check_password(passwords[0])
    assert manager.is_staff and not manager.is_superuser
    assert list(manager.groups.values_list("name", flat=True)) == ["Store manager"]
    assert config.export_config() == config_after_first
    assert (
        list(ChatSession.objects.order_by("id").values_list("id", "status")) == sessions_after_first
    )


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 10, 3, 30, tzinfo=UTC),  # Tuesday: Taipei day and New York night on
        datetime(2026, 3, 14, 20, 0, tzinfo=UTC),  # Saturday evening: nobody on duty
    ],
    ids=["weekday-morning-utc", "saturday-evening-gap"],
)
def test_the_demo_tells_the_story_at_any_hour(now):
    summary = demo.seed_demo(now=now)

    assert summary.zones == ["America/New_York", "Asia/Taipei", "Europe/London"]
    assert summary.staff == 8 and summary.auto_assign
    assert summary.closed > 100 and summary.open >= 7 and summary.waiting >= 1
    staff = {member.email: member for member in Staff.objects.select_related("working_time")}
    assert not staff["amelia@example.com"].active
    assert staff["amelia@example.com"].open_sessions == 2  # left open when she went home
    assert staff["kai@example.com"].max_open_sessions == 2
    assert staff["kai@example.com"].open_sessions == 2  # full
    assert staff["nora@example.com"].working_time is None
    night = staff["maya@example.com"].working_time
    assert night.timezone == "America/New_York" and night.hours_config()["sun"] == [
        ["18:00", "02:00"]
    ]
    assert_bookkeeping_is_exact()
    # History for the fairness view: two weeks, every kind, nothing after "now".
    events = AssignmentEvent.objects.all()
    assert set(events.values_list("kind", flat=True)) == {"automatic", "queue", "manual"}
    assert events.filter(created_at__gt=now).count() == 0
    assert events.filter(created_at__lt=now - timedelta(days=10)).exists()
    last_week = events.filter(created_at__gte=now - timedelta(days=7))
    with_hours = [m for m in staff.values() if m.working_time is not None]
    assert all(last_week.filter(staff=m).exists() for m in with_hours)
    assert ChatSession.objects.filter(created_at__gt=now).count() == 0
    # Staff answered most chats: first response times for the fairness view, never before
    # the session opened, and none by Amelia after she fell ill.
    answered = ChatSession.objects.filter(first_response_at__isnull=False)
    assert answered.count() > ChatSession.objects.count() // 2
    assert not answered.filter(first_response_at__lt=F("created_at")).exists()
    assert not answered.filter(first_response_at__gt=now).exists()
