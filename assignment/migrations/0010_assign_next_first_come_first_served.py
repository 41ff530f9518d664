"""PostgreSQL: re-install ``chatassist_assign_next`` (assignment/sql/assign_next.sql) with
first come, first served: a new session's decision goes to the oldest waiting session."""

from pathlib import Path

from django.db import migrations

from staff import sql

APP = Path(__file__).resolve().parent.parent


def install_assign_next(apps, schema_editor):
    sql.install(schema_editor, APP, "assign_next")


class Migration(migrations.Migration):
    dependencies = [("assignment", "0009_staff_replies_first_response_reassign")]

    operations = [
        migrations.RunPython(install_assign_next, migrations.RunPython.noop, elidable=False),
    ]
