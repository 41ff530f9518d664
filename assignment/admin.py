"""Admin lists for sessions, messages, assignment events and the toggle.

Every change goes through the services (``assignment.policy``, ``assignment.config``);
fields those services own are read-only here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from assignment import config, policy
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["message_id", "text", "sent_at", "received_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class WaitingFilter(admin.SimpleListFilter):
    title = "waiting"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", "Waiting for a staff member")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=ChatSession.Status.OPEN, assigned_staff__isnull=True)
        return queryset


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "customer",
        "channel",
        "status",
        "assigned_staff",
        "assigned_at",
        "created_at",
        "last_message_at",
    ]
    list_filter = ["status", WaitingFilter, "assigned_staff", "channel"]
    list_select_related = ["assigned_staff"]
    search_fields = ["customer_id", "customer_name"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]
    actions = ["close_sessions"]
    readonly_fields = [
        "channel",
        "customer_id",
        "customer_name",
        "status",
        "assigned_staff",
        "assigned_at",
        "created_at",
        "last_message_at",
        "closed_at",
    ]

    def has_add_permission(self, request):
        return False  # sessions come from the webhook

    @admin.display(description="Customer", ordering="customer_name")
    def customer(self, obj: ChatSession) -> str:
        return obj.customer_name or obj.customer_id

    @admin.action(description="Close selected sessions")
    def close_sessions(self, request, queryset: QuerySet[ChatSession]):
        closed = sum(policy.session_close(session=session) for session in queryset)
        self.message_user(request, f"{closed} sessions closed.", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "session", "text_preview", "sent_at", "received_at"]
    list_select_related = ["session"]
    search_fields = ["message_id", "text", "session__customer_id"]
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Text")
    def text_preview(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"


@admin.register(AssignmentEvent)
class AssignmentEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "session", "staff", "kind", "reason", "candidates", "assigned_by"]
    list_filter = ["kind", "staff"]
    list_select_related = ["session", "staff", "assigned_by"]
    search_fields = ["staff__name", "session__customer_id", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentSettingsForm(forms.ModelForm):
    class Meta:
        model = AssignmentSettings
        fields = ["auto_assign"]

    def clean_auto_assign(self):
        enabled = self.cleaned_data["auto_assign"]
        if enabled and not config.any_staff_has_working_time():
            raise ValidationError(config.TOGGLE_RULE_MESSAGE)
        return enabled


@admin.register(AssignmentSettings)
class AssignmentSettingsAdmin(admin.ModelAdmin):
    form = AssignmentSettingsForm
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        form.instance = config.auto_assign_set(enabled=obj.auto_assign)
