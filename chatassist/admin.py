"""Admin for working times and staff: configuration over the services in ``assignment.config``
(which hold the toggle rule) and ``staff.services`` (which hold every field rule)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count

from assignment import config
from staff import services as staff_services
from staff.models import Staff, WorkingTime


class WorkingTimeForm(forms.ModelForm):
    hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text='Weekly hours as JSON, e.g. {"mon": [["09:00", "18:00"]], '
        '"sun": [["22:00", "02:00"]]}. An end before the start runs past midnight.',
    )

    class Meta:
        model = WorkingTime
        fields = ["name", "timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["hours"].initial = json.dumps(self.instance.hours_config())

    def clean(self):
        cleaned = super().clean()
        try:
            hours = json.loads(cleaned.get("hours") or "")
        except ValueError:
            self.add_error("hours", "Enter the hours as JSON.")
            return cleaned
        try:
            staff_services.working_time_validate(
                name=cleaned.get("name"), timezone=cleaned.get("timezone"), hours=hours
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                self.add_error(field if field in self.fields else None, problems)
        cleaned["hours_value"] = hours
        return cleaned


@admin.register(WorkingTime)
class WorkingTimeAdmin(admin.ModelAdmin):
    form = WorkingTimeForm
    list_display = ["name", "timezone", "summary", "staff_count"]
    search_fields = ["name", "timezone"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(staff_count=Count("staff"))
            .prefetch_related("weekly_ranges")
        )

    @admin.display(description="Weekly hours")
    def summary(self, obj: WorkingTime) -> str:
        return obj.summary()

    @admin.display(description="Staff", ordering="staff_count")
    def staff_count(self, obj: WorkingTime) -> int:
        return obj.staff_count

    def save_model(self, request, obj, form, change):
        staff_services.working_time_save(
            name=obj.name,
            timezone=obj.timezone,
            hours=form.cleaned_data["hours_value"],
            working_time=obj,
        )

    def delete_model(self, request, obj):
        config.working_time_delete(working_time=obj)

    def delete_queryset(self, request, queryset):
        for working_time in queryset:
            config.working_time_delete(working_time=working_time)


class StaffForm(forms.ModelForm):
    class Meta:
        model = Staff
        fields = ["name", "email", "user", "working_time", "active", "max_open_sessions"]

    def clean(self):
        cleaned = super().clean()
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

    @admin.display(description="Capacity", ordering="max_open_sessions")
    def capacity(self, obj: Staff) -> str:
        return "no limit" if obj.max_open_sessions is None else str(obj.max_open_sessions)

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

    @admin.action(description="Mark selected staff as away")
    def mark_away(self, request, queryset):
        updated = queryset.update(active=False)
        self.message_user(request, f"{updated} staff marked away.", messages.SUCCESS)

    @admin.action(description="Mark selected staff as available")
    def mark_available(self, request, queryset):
        updated = queryset.update(active=True)
        self.message_user(request, f"{updated} staff marked available.", messages.SUCCESS)
