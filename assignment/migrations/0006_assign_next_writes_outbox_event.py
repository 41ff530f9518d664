"""PostgreSQL: ``chatassist_assign_next`` also writes the decision's outbound event.

The transactional outbox (the events app): an assignment writes a ``session.assigned`` row
and a new session nobody has room for a ``session.queued`` row into ``events_event``, in
the same call and so the same transaction as the decision, as one more statement inside
the server (no round trip more under the lock). Re-installs assignment/sql/assign_next.sql.
"""

from pathlib import Path

from django.db import migrations

from staff import sql

APP = Path(__file__).resolve().parent.parent


def create_functions(apps, schema_editor):
    sql.install(schema_editor, APP, "assign_next")


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0005_assign_next_in_database"),
        ("events", "0001_outbox_endpoints_deliveries"),
    ]

    operations = [
        # Undone by 0005's undo (which drops the function) or by re-running 0005's install.
        migrations.RunPython(create_functions, migrations.RunPython.noop, elidable=False),
    ]
