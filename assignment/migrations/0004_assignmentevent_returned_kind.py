from django.db import migrations, models


class Migration(migrations.Migration):
    """Events of kind "returned": a session taken back from a staff member into the queue."""

    dependencies = [("assignment", "0003_store_manager_group")]

    operations = [
        migrations.AlterField(
            model_name="assignmentevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("automatic", "Automatic"),
                    ("queue", "From the waiting queue"),
                    ("manual", "Manual"),
                    ("returned", "Returned to the queue"),
                ],
                max_length=10,
            ),
        ),
    ]
