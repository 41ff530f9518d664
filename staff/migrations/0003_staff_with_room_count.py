"""PostgreSQL: how many staff of each working time are candidates, kept by a trigger.

Each assignment records how many staff were candidates when it was decided (active, of a
working time on duty, with room). Counting them means visiting every candidate: 0.3 ms for
500 on duty, 3 ms for 5,000, under the store-wide assignment lock. This table holds that
number per working time, so the count is one row per working time on duty.

The trigger keeps it exact in the same transaction as every change to a staff row: it runs
only when a row starts or stops being a candidate of a working time (added, removed, away
or back, moved to another working time, full or no longer full), not on the stamp of every
assignment. ``TRUNCATE`` of staff (Django's flush) empties it too.

SQLite needs none of this: there the policy counts the candidates as it picks.
tests/staff/test_staff_with_room_count.py checks the table against a fresh count.
"""

from pathlib import Path

from django.db import migrations

from staff import sql

APP = Path(__file__).resolve().parent.parent


def install(apps, schema_editor):
    sql.install(schema_editor, APP, "staff_with_room_count")


def uninstall(apps, schema_editor):
    sql.install(schema_editor, APP, "staff_with_room_count.drop")


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_staff_next_in_line")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
