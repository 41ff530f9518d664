"""PostgreSQL: one decision of the assignment policy as one call into the database.

``assignment.policy`` holds the store-wide assignment lock (the settings row) from the moment
it takes it until its transaction commits, so every round trip between the application and
the database while it holds it is time no other decision can use. Here the whole locked part
of a decision runs inside the server, in one call: take the lock, check the toggle and that
the caller judged who is on duty from the current working hours, find the session (given,
or the oldest waiting one), pick the staff member next in line, stamp them, assign the
session and record the event. PL/pgSQL gives each statement a fresh snapshot (READ
COMMITTED), so the statements after the lock see every decision committed before it; one
plain SQL statement would not (its snapshot is taken before it waits for the lock).

Who is on duty stays a Python decision (``staff.schedule``, one implementation of the time
zone and past-midnight maths): the caller passes the working times on duty and the digest of
the hours it judged them from; if the hours changed, the function changes nothing and says
"stale", and the caller judges again from fresh hours.

The clock: the caller reads it before the call, so two decisions can arrive at the lock in
the other order than their clocks. The stamp is therefore the later of the caller's clock
and the previous decision's stamp (``last_decision_at`` on the locked row): stamps never go
backwards in lock order, and a host whose clock lags cannot jump its staff ahead in line.

``chatassist_describe_duration`` words the reason as ``policy.describe_duration`` does;
tests/assignment/test_decision_in_database.py checks that the two agree.

The functions are in assignment/sql/ (hours_digest, describe_duration, assign_next).
SQLite has no such functions; there the policy runs the same rule as ORM queries, and
tests/assignment/test_rule_agrees.py pins the two forms together.
"""

from pathlib import Path

from django.db import migrations, models

from staff import sql

APP = Path(__file__).resolve().parent.parent


def create_functions(apps, schema_editor):
    sql.install(schema_editor, APP, "hours_digest", "describe_duration", "assign_next")


def drop_functions(apps, schema_editor):
    sql.install(schema_editor, APP, "assign_next.drop")


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0004_assignmentevent_returned_kind"),
        ("staff", "0003_staff_with_room_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignmentsettings",
            name="last_decision_at",
            field=models.DateTimeField(
                editable=False,
                help_text="The stamp of the latest automatic decision; the next is never earlier.",
                null=True,
            ),
        ),
        migrations.RunPython(create_functions, drop_functions, elidable=False),
    ]
