"""The two roles of the store, as groups of model permissions.

* "Store manager": runs the Chat Assistant settings page (working times, who works when, the
  automatic-assignment toggle) and the admin lists of staff, sessions and assignments. The
  permission ``assignment.change_assignmentsettings`` is what makes someone a manager: with
  it they see every session; without it they see only their own.
* "Chat agent": a staff member who logs in to see and close the sessions assigned to them
  (link their login on the staff member's admin page and tick "Staff status").

Neither role gets permissions on users or groups: whoever may edit users may make
themselves a superuser, so that stays with superusers.

The lists here are frozen as they were; ``assignment.roles`` holds the current ones and the
function that applies them.
"""

from django.db import DEFAULT_DB_ALIAS, migrations

STORE_MANAGER = "Store manager"
CHAT_AGENT = "Chat agent"

ROLE_PERMISSIONS = {
    STORE_MANAGER: {
        "staff": [
            "view_workingtime",
            "add_workingtime",
            "change_workingtime",
            "delete_workingtime",
            "view_staff",
            "add_staff",
            "change_staff",
            "delete_staff",
        ],
        "assignment": [
            "view_assignmentsettings",
            "change_assignmentsettings",
            "view_chatsession",
            "change_chatsession",
            "view_message",
            "view_assignmentevent",
        ],
    },
    CHAT_AGENT: {
        "assignment": ["view_chatsession", "change_chatsession", "view_message"],
    },
}


def ensure_roles(apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """The groups with this migration's lists (a later migration gives the current ones)."""
    from assignment import roles  # here: assignment.roles reads this module's lists

    roles.ensure_roles(apps, using, ROLE_PERMISSIONS)


def forwards(apps, schema_editor):
    ensure_roles(apps, using=schema_editor.connection.alias)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=list(ROLE_PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0002_settings_row"),
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
