"""The roles' current permissions (``assignment.roles``): store managers also run the
outbound event endpoints and their delivery log."""

from django.db import migrations

from assignment import roles


def forwards(apps, schema_editor):
    roles.ensure_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0010_assign_next_first_come_first_served"),
        ("events", "0001_outbox_endpoints_deliveries"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
