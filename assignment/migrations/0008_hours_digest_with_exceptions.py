"""PostgreSQL: the hours digest covers dated exceptions too.

``chatassist_assign_next`` refuses a decision judged from a stale copy of the working hours
by comparing digests (``chatassist_hours_digest``, assignment/sql/hours_digest.sql). Dated
exceptions change who is on duty, so the digest now covers them and their ranges: a changed
exception makes the function answer "stale" and the process reads the hours again.
"""

from pathlib import Path

from django.db import migrations

from staff import sql

APP = Path(__file__).resolve().parent.parent


def install_digest(apps, schema_editor):
    sql.install(schema_editor, APP, "hours_digest")


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0007_translatable_labels"),
        ("staff", "0005_working_time_exceptions"),
    ]

    operations = [
        # Going back, the previous text stays installed: it only reads tables that remain.
        migrations.RunPython(install_digest, migrations.RunPython.noop, elidable=False),
    ]
