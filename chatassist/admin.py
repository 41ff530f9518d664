"""Admin for working times and staff: configuration over the services in ``assignment.config``
(which hold the toggle rule) and ``staff.services`` (which hold every field rule).

Working times are created and edited on the Chat Assistant settings page only; their admin
pages lead there (``WorkingTimeAdmin``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assignment import config
from chatassist.pages.popup import popup_query
from staff import services as staff_services
from staff.models import Staff, WorkingTime


@admin.register(WorkingTime)
class WorkingTimeAdmin(admin.ModelAdmin):
    """Working times have one door: the settings page's pop-up, with its time zone picker
    and hours editor. The admin's URLs for them stay, because the index, the sidebar and the
    staff form's "+" and pencil link them, and each leads there after the permission check
    Django's own view would make. The list is the settings page's Working time tab, which
    shows the same working times with who uses each."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("chat_assistant:working-times")

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        url = reverse("chat_assistant:working-time-create")
        return redirect(url + popup_query(request.GET))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # before saying whether it exists, as Django's view does
        working_time = self.get_object(request, object_id)
        if working_time is None:
            messages.warning(
                request,
                _("Working time with ID “%(id)s” doesn’t exist. Perhaps it was deleted?")
                % {"id": object_id},
            )
            return redirect("chat_assistant:working-times")
        if self.has_change_permission(request, working_time):
            url = reverse("chat_assistant:working-time-edit", args=[working_time.pk])
            return redirect(url + popup_query(request.GET))
        if self.has_view_permission(request, working_time):
            return redirect(
                reverse("chat_assistant:working-times") + f"#working-time-{working_time.pk}"
            )
        raise PermissionDenied

    def delete_model(self, request, obj):
        # Django's delete page stays (the staff form's delete button opens it); it deletes
        # through the same service as the settings page's delete.
        config.working_time_delete(working_time=obj)


class StaffForm(forms.ModelForm):
    class Meta:
        model = Staff
        fields = ["name", "email", "user", "working_time", "active", "max_open_sessions"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        try:
            staff_services.staff_validate(
                email=cleaned.get("email"),
                name=cleaned.get("name"),
                active=cleaned.get("active", True),
                max_open_sessions=cleaned.get("max_open_sessions"),
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                if field not in self.errors:
                    self.add_error(field, problems)
        problem = config.toggle_rule_problem(
            staff=self.instance, new_working_time=cleaned.get("working_time")
        )
        if problem:
            self.add_error("working_time", problem)
        return cleaned


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    form = StaffForm
    list_display = [
        "name",
        "email",
        "working_time",
        "active",
        "open_sessions",
        "capacity",
        "last_assigned_at",
    ]
    # The away toggle: untick "active" and save; saving goes through save_model below.
    list_editable = ["active"]
    list_filter = ["active", "working_time"]
    list_select_related = ["working_time"]
    search_fields = ["name", "email"]
    readonly_fields = ["open_sessions", "last_assigned_at", "created_at"]
    actions = ["mark_away", "mark_available"]

    @admin.display(description=gettext_lazy("Capacity"), ordering="max_open_sessions")
    def capacity(self, obj: Staff) -> str:
        return _("no limit") if obj.max_open_sessions is None else str(obj.max_open_sessions)

    def save_model(self, request, obj, form, change):
        config.staff_save_checked(
            email=obj.email,
            name=obj.name,
            working_time=obj.working_time,
            active=obj.active,
            max_open_sessions=obj.max_open_sessions,
            staff=obj,  # the form's instance, so the login it chose is saved too
        )

    def delete_model(self, request, obj):
        config.staff_delete(staff=obj)

    def delete_queryset(self, request, queryset):
        for member in queryset:
            config.staff_delete(staff=member)

    @admin.action(description=gettext_lazy("Mark selected staff as away"))
    def mark_away(self, request, queryset):
        updated = queryset.update(active=False)
        message = ngettext(
            "%(count)d staff member marked away.", "%(count)d staff members marked away.", updated
        )
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Mark selected staff as available"))
    def mark_available(self, request, queryset):
        updated = queryset.update(active=True)
        message = ngettext(
            "%(count)d staff member marked available.",
            "%(count)d staff members marked available.",
            updated,
        )
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)
