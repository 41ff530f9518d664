"""The soak's managers (tests/test_soak.py): staff going away and back (their sessions
returned to the queue), capacity changes, manual reassignments and automatic assignment
paused for a moment (new sessions wait for the queue workers), through the same
services the admin uses, for ``--seconds``; prints a JSON tally of what it did.

    DATABASE_URL=... python -m tests.soak_chaos --seconds 15
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatassist.settings")
    import django

    django.setup()
    from django.db import DatabaseError

    from assignment import config, policy, returns
    from assignment.models import ChatSession
    from staff import services
    from staff.models import Staff

    chance = random.Random(arguments.seed)
    tally = {"away": 0, "back": 0, "returned": 0, "capacity": 0, "reassigned": 0, "paused": 0}
    tally["refused"] = 0
    away_group = list(Staff.objects.filter(email__startswith="away").order_by("id"))
    capacity_group = list(Staff.objects.filter(email__startswith="capacity").order_by("id"))
    deadline = time.monotonic() + arguments.seconds
    while time.monotonic() < deadline:
        action = chance.choice(["toggle", "capacity", "reassign", "reassign", "pause"])
        try:
            if action == "pause":
                config.auto_assign_set(enabled=False)
                # Now and then longer than the soak's idle limit (2 s): waiting sessions are
                # then listed as idle just as the queue workers take them on again.
                time.sleep(chance.choice([0.3, 0.3, 2.5]))
                config.auto_assign_set(enabled=True)
                tally["paused"] += 1
            elif action == "toggle":
                member = Staff.objects.get(pk=chance.choice(away_group).pk)
                services.staff_save(
                    staff=member, email=member.email, name=member.name,
                    working_time=member.working_time, active=not member.active,
                    max_open_sessions=member.max_open_sessions,
                )  # fmt: skip
                if member.active:  # it was active: now away, and its sessions go back
                    tally["away"] += 1
                    returned = returns.return_to_queue(staff=member)
                    tally["returned"] += len(returned)
                else:
                    tally["back"] += 1
            elif action == "capacity":
                member = Staff.objects.get(pk=chance.choice(capacity_group).pk)
                services.staff_save(
                    staff=member, email=member.email, name=member.name,
                    working_time=member.working_time, active=True,
                    max_open_sessions=1 if member.max_open_sessions == 3 else 3,
                )  # fmt: skip
                tally["capacity"] += 1
            else:
                session = ChatSession.objects.filter(status="open").order_by("?").first()
                target = Staff.objects.get(pk=chance.choice(away_group + capacity_group).pk)
                if session is not None:
                    policy.session_assign_manually(session=session, staff=target, assigned_by=None)
                    tally["reassigned"] += 1
        except (policy.AssignmentError, returns.ReturnRefused, DatabaseError):
            tally["refused"] += 1  # at capacity, closed meanwhile, away already: as in the admin
        time.sleep(0.05)
    print(json.dumps(tally))


if __name__ == "__main__":
    main()
