"""The store the benchmark runs against, and resets between runs (Django must be set up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from assignment import config
from assignment.models import ChatSession
from staff import services as staff_services
from staff.models import Staff, WorkingTime

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BATCH = 2000


@dataclass(frozen=True)
class Store:
    staff: int
    on_duty_working_time_id: int
    always_on_active_ids: list[int]
    away: int
    off_duty: int


def off_duty_hours(now: datetime) -> dict[str, list]:
    """Hours that cannot cover the next two days: only the whole day three days from now."""
    return {DAYS[(now.weekday() + 3) % 7]: [["00:00", "24:00"]]}


def seed_store(*, staff_count: int) -> Store:
    """``staff_count`` staff, all with a working time: the first half off duty now (worst
    case for an index that is not led by the working time), the second half on duty
    around the clock, of whom 1 in 100 (at least one) is away. Automatic assignment on."""
    now = timezone.now()
    truncate("staff_staff", "staff_workingrange", "staff_workingtime")
    always = staff_services.working_time_save(name="Always", timezone="UTC", hours=ALWAYS)
    off = staff_services.working_time_save(
        name="Later this week", timezone="Asia/Taipei", hours=off_duty_hours(now)
    )
    off_duty = staff_count // 2
    on_duty = staff_count - off_duty
    away = max(1, on_duty // 100)
    members = [
        Staff(
            name=f"Staff {index}",
            email=f"staff{index}@bench.example",
            working_time=off if index < off_duty else always,
            active=not (off_duty <= index < off_duty + away),
        )
        for index in range(staff_count)
    ]
    for start in range(0, len(members), BATCH):
        Staff.objects.bulk_create(members[start : start + BATCH])
    config.auto_assign_set(enabled=True)
    vacuum_analyze()
    active_ids = list(
        Staff.objects.filter(working_time=always, active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return Store(staff_count, always.pk, active_ids, away, off_duty)


def reset_traffic() -> None:
    """Forget every session, message and assignment; staff back to never assigned."""
    truncate("assignment_message", "assignment_assignmentevent", "assignment_chatsession")
    Staff.objects.update(last_assigned_at=None, open_sessions=0)
    vacuum_analyze()


def truncate(*tables: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def vacuum_analyze() -> None:
    """Clean dead rows and refresh statistics, so every run starts from the same state."""
    with connection.cursor() as cursor:
        for table in (
            "staff_staff",
            "staff_with_room_count",
            "assignment_assignmentsettings",  # its lock row takes each decision's stamp
            "assignment_chatsession",
            "assignment_message",
            "assignment_assignmentevent",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("CHECKPOINT")


def sessions_per_staff(staff_ids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(staff_ids, 0)
    rows = (
        ChatSession.objects.filter(assigned_staff__in=staff_ids)
        .values_list("assigned_staff")
        .order_by()
    )
    for (staff_id,) in rows:
        counts[staff_id] += 1
    return counts


def seed_waiting_queue(*, staff_count: int, sessions: int) -> list[int]:
    """For the drain: ``staff_count`` staff on duty, ``sessions`` waiting (oldest first)."""
    truncate("staff_staff", "staff_workingrange", "staff_workingtime")
    always = staff_services.working_time_save(name="Always", timezone="UTC", hours=ALWAYS)
    Staff.objects.bulk_create(
        Staff(name=f"Agent {index}", email=f"agent{index}@bench.example", working_time=always)
        for index in range(staff_count)
    )
    config.auto_assign_set(enabled=False)
    start = timezone.now() - timedelta(hours=1)
    waiting = [
        ChatSession(
            channel="web",
            customer_id=f"waiting-{index}",
            created_at=start + timedelta(milliseconds=index),
            last_message_at=start + timedelta(milliseconds=index),
        )
        for index in range(sessions)
    ]
    # bulk_create sends no post_save: these sessions wait, as if created while it was off.
    for begin in range(0, len(waiting), BATCH):
        ChatSession.objects.bulk_create(waiting[begin : begin + BATCH])
    config.auto_assign_set(enabled=True)
    vacuum_analyze()
    return list(Staff.objects.order_by("id").values_list("id", flat=True))


def working_time_ids() -> dict[str, int]:
    return dict(WorkingTime.objects.values_list("name", "id"))
