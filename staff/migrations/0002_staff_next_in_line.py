"""PostgreSQL: the index the assignment policy finds the next staff member with.

``assignment.policy`` asks, for each working time on duty, for the first staff member in
assignment order: ``ORDER BY last_assigned_at ASC NULLS FIRST, id LIMIT 1`` among the
active ones with room. ``staff_candidates`` (from 0001) sorts NULLs last on PostgreSQL, so
that ORDER BY cannot use it and every candidate is sorted instead (5,000 of them in a store
of 10,000). This index has the policy's exact order, is led by the working time (staff off
duty are never scanned) and holds only active staff with room (away and full staff are never
scanned either): one probe per working time on duty, whatever the size of the store.

SQLite needs nothing: it sorts NULLs first already, so ``staff_candidates`` serves it, and it
cannot declare ``NULLS FIRST`` in an index. Hence SQL run on PostgreSQL only, and no model
state: the index is an implementation detail of the policy's query, not of the model.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS staff_next_in_line
ON staff_staff (working_time_id, last_assigned_at ASC NULLS FIRST, id)
WHERE active AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions)
"""
DROP = "DROP INDEX IF EXISTS staff_next_in_line"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
