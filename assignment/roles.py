"""The two roles of the store, as groups of model permissions (the current list).

* "Store manager": runs the Chat Assistant settings page (working times with their dated
  exceptions, who works when, the automatic-assignment toggle and hand-overs), the admin
  lists of staff, sessions and assignments, and the outbound event endpoints with their
  delivery log. The permission ``assignment.change_assignmentsettings`` is what makes
  someone a manager: with it they see every session; without it they see only their own.
* "Chat agent": a staff member who logs in to see and close the sessions assigned to them
  (link their login on the staff member's admin page and tick "Staff status").

Neither role gets permissions on users or groups: whoever may edit users may make
themselves a superuser, so that stays with superusers.

Migrations give the groups their lists (``assignment/0003_store_manager_group`` the first
one, frozen; ``assignment/0011_store_manager_roles`` this one) through ``ensure_roles``, and
tests call it too: a transactional test case flushes the tables, data-migration rows
included, and must recreate the groups. A change to ``ROLE_PERMISSIONS`` needs a new
migration that calls ``ensure_roles`` again.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

STORE_MANAGER = "Store manager"
CHAT_AGENT = "Chat agent"

RolePermissions = dict[str, dict[str, list[str]]]

# The lists as migration 0003 first gave them (frozen there, as history), and what was
# added since: the sum is what the groups hold now.
_FIRST = importlib.import_module("assignment.migrations.0003_store_manager_group")
ADDED_SINCE: RolePermissions = {
    # Outbound events: endpoints (secret shown once, rotate, test event) and the delivery
    # log with "Retry now" (a change of the delivery). Given by assignment/0011.
    STORE_MANAGER: {
        "events": [
            "view_endpoint",
            "add_endpoint",
            "change_endpoint",
            "delete_endpoint",
            "view_delivery",
            "change_delivery",
        ],
    },
}


def _combined(first: RolePermissions, added: RolePermissions) -> RolePermissions:
    combined: RolePermissions = {}
    for lists in (first, added):
        for role, by_app in lists.items():
            for app_label, codenames in by_app.items():
                combined.setdefault(role, {}).setdefault(app_label, []).extend(codenames)
    return combined


ROLE_PERMISSIONS: RolePermissions = _combined(_FIRST.ROLE_PERMISSIONS, ADDED_SINCE)


def ensure_roles(
    apps: Any, using: str = DEFAULT_DB_ALIAS, role_permissions: RolePermissions | None = None
) -> None:
    """Create the groups (if missing) and give each exactly its listed permissions."""
    _create_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, by_app in (role_permissions or ROLE_PERMISSIONS).items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = [
            (app_label, codename) for app_label, codes in by_app.items() for codename in codes
        ]
        permissions = [
            Permission.objects.using(using).get(content_type__app_label=app_label, codename=code)
            for app_label, code in wanted
        ]
        group.permissions.set(permissions)


def _create_permissions(apps: Any, using: str) -> None:
    # Permissions are normally created after *all* migrations (post_migrate); a fresh
    # database reaches these migrations before that, so create them now. Historical app
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
