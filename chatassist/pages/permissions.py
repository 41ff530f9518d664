"""Who may see and do what on the settings page: Django model permissions.

The "Store manager" group (assignment/migrations/0003_store_manager_group.py) holds all of
them; superusers hold every permission. Each action checks exactly the permission the
matching admin page would, so the page never lets anyone do more than the admin does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class SettingsPermissions:
    view: bool
    toggle: bool
    add_working_time: bool
    change_working_time: bool
    delete_working_time: bool
    set_staff_working_time: bool

    @classmethod
    def of(cls, user) -> SettingsPermissions:
        has = user.has_perm  # cached per request by the auth backend; superusers: no query
        return cls(
            view=has("assignment.view_assignmentsettings")
            or has("assignment.change_assignmentsettings"),
            toggle=has("assignment.change_assignmentsettings"),
            add_working_time=has("staff.add_workingtime"),
            change_working_time=has("staff.change_workingtime"),
            delete_working_time=has("staff.delete_workingtime"),
            set_staff_working_time=has("staff.change_staff"),
        )

    def require(self, *names: str) -> None:
        """PermissionDenied (403) unless the page may be seen and every named action done."""
        if not self.view or not all(getattr(self, name) for name in names):
            raise PermissionDenied
