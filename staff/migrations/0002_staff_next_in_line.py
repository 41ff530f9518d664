"""PostgreSQL: the index the assignment policy finds the next staff member with.

``assignment.policy`` asks, for each working time on duty, for the first staff member in
assignment order: ``ORDER BY last_assigned_at ASC NULLS FIRST, id LIMIT 1`` among the
active ones with room. The ORM index from 0001 sorts NULLs last on PostgreSQL, so
that ORDER BY cannot use it and every candidate is sorted instead (5,000 of them in a store
of 10,000). This index has the policy's exact order, is led by the working time (staff off
duty are never scanned) and holds only active staff with room (away and full staff are never
scanned either): one probe per working time on duty, whatever the size of the store.

SQLite needs nothing: it sorts NULLs first already, so the ORM index serves it, and it
cannot declare ``NULLS FIRST`` in an index. Hence SQL run on PostgreSQL only, and no model
state: the index is an implementation detail of the policy's query, not of the model. The
SQL is in staff/sql/next_in_line_index.sql.
"""

from pathlib import Path

from django.db import migrations

from staff import sql

APP = Path(__file__).resolve().parent.parent


def install(apps, schema_editor):
    sql.install(schema_editor, APP, "next_in_line_index")


def uninstall(apps, schema_editor):
    sql.install(schema_editor, APP, "next_in_line_index.drop")


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
