from django.db import migrations


def create_settings_row(apps, schema_editor):
    AssignmentSettings = apps.get_model("assignment", "AssignmentSettings")
    AssignmentSettings.objects.get_or_create(id=1, defaults={"auto_assign": False})


class Migration(migrations.Migration):
    dependencies = [("assignment", "0001_initial")]

    operations = [migrations.RunPython(create_settings_row, migrations.RunPython.noop)]
