"""The two roles of the store, as groups of model permissions.

* "Store manager": runs the Chat Assistant settings page (working times, who works when, the
  automatic-assignment toggle) and the admin lists of staff, sessions and assignments. The
  permission ``assignment.change_assignmentsettings`` is what makes someone a manager: with
  it they see every session; without it they see only their own.
* "Chat agent": a staff member who logs in to see and close the sessions assigned to them
  (link their login on the staff member's admin page and tick "Staff status").

Neither role gets permissions on users or groups: whoever may edit users may make
themselves a superuser, so that stays with superusers.

``ensure_roles(apps)`` is idempotent and is also what tests call: a transactional test case
flushes the tables, data-migration rows included, and must recreate the groups.
"""

from django.contrib.auth.management import create_permissions
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
    """Create the groups (if missing) and give each exactly its listed permissions."""
    _create_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, by_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = [
            (app_label, codename) for app_label, codes in by_app.items() for codename in codes
        ]
        permissions = [
            Permission.objects.using(using).get(content_type__app_label=app_label, codename=code)
            for app_label, code in wanted
        ]
        group.permissions.set(permissions)


def _create_permissions(apps, using: str) -> None:
    # Permissions are normally created after *all* migrations (post_migrate); a fresh
    # database reaches this migration before that, so create them now. Historical app
    # configs have no models module, which create_permissions() takes for "no models".
    for app_config in apps.get_app_configs():
        is_stub = getattr(app_config, "models_module", None) is None
        if is_stub:
            app_config.models_module = True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            if is_stub:
                app_config.models_module = None


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
