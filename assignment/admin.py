"""Admin lists for sessions, messages and assignment events; the toggle's admin URLs lead to
its tab on the Chat Assistant settings page.

Every change goes through the services (``assignment.policy``);
fields those services own are read-only here.

Who sees what: a store manager (anyone who may change the assignment settings, as the
"Store manager" group may) sees every session; any other user who may view sessions (the
"Chat agent" group) sees only the sessions assigned to their own staff profile, with their
messages and assignments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assignment import policy
from assignment.models import AssignmentEvent, AssignmentSettings, ChatSession, Message
from assignment.reasons import duration_in_language, reason_in_language
from staff.models import Staff

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def sees_all_sessions(user) -> bool:
    """Managers see every session; other users only the sessions assigned to them."""
    return user.has_perm("assignment.change_assignmentsettings")


class OwnSessionsOnlyMixin(admin.ModelAdmin):
    """Limits a list to the user's own sessions unless they are a manager."""

    own_lookup: str  # from the listed model to the user of the assigned staff member

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_sessions(request.user):
            return queryset
        return queryset.filter(**{self.own_lookup: request.user})


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("message_id", "author", "staff", "text", "sent_at", "received_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class AssignmentEventInline(admin.TabularInline):
    model = AssignmentEvent
    fields = (
        "created_at",
        "staff",
        "kind",
        "reason_text",
        "candidates",
        "assigned_by",
        "reassigned_from",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("assignments and reassignments")

    @admin.display(description=gettext_lazy("reason"))
    def reason_text(self, obj: AssignmentEvent) -> str:
        return reason_in_language(obj.reason)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("staff", "assigned_by", "reassigned_from")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WaitingFilter(admin.SimpleListFilter):
    title = gettext_lazy("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", _("Waiting for a staff member"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=ChatSession.Status.OPEN, assigned_staff__isnull=True)
        return queryset


class StaffFilter(admin.RelatedFieldListFilter):
    """Staff by name only (their email makes the sidebar hard to scan)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Marked safe as ModelAdmin.get_empty_value_display() marks the default it replaces.
        self.empty_value_display = mark_safe(escape(_("Nobody")))

    def field_choices(self, field, request, model_admin):
        return list(Staff.objects.order_by("name", "id").values_list("id", "name"))


class StaffChoiceField(forms.ModelChoiceField):
    """Staff with their working time, load and absence, to choose whom to give sessions."""

    def label_from_instance(self, member: Staff) -> str:
        parts = [member.working_time.name if member.working_time else _("no working time")]
        if member.max_open_sessions:
            parts.append(
                _("%(open)d of %(capacity)d open")
                % {"open": member.open_sessions, "capacity": member.max_open_sessions}
            )
        else:
            parts.append(_("%(open)d open") % {"open": member.open_sessions})
        if not member.active:
            parts.append(_("away"))
        return f"{member.name} ({', '.join(parts)})"


class AssignSessionsForm(forms.Form):
    staff = StaffChoiceField(
        queryset=Staff.objects.select_related("working_time").order_by("name", "id"),
        label=gettext_lazy("Staff member"),
        help_text=gettext_lazy("Counts as their latest assignment; recorded as “manual by” you."),
    )


class LatestReason(TypedDict):
    latest_reason: str | None  # the reason of the assigned staff member's latest event


@admin.register(ChatSession)
class ChatSessionAdmin(OwnSessionsOnlyMixin, admin.ModelAdmin):
    own_lookup = "assigned_staff__user"
    list_display = [
        "id",
        "customer",
        "channel",
        "state",
        "staff_member",
        "assignment_reason",
        "created_at",
        "last_message_at",
    ]
    list_filter = ["status", WaitingFilter, ("assigned_staff", StaffFilter), "channel"]
    list_select_related = ["assigned_staff"]
    search_fields = ["customer_id", "customer_name"]
    search_help_text = gettext_lazy("Search by customer name or id.")
    date_hierarchy = "created_at"
    inlines = [MessageInline, AssignmentEventInline]
    actions = ["assign_sessions", "close_sessions"]
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
        "first_response",
        "first_response_staff",
        "reassignments",
    ]

    def get_queryset(self, request):
        # Why the staff member who has it now got it: their latest event on the session.
        latest_reason = AssignmentEvent.objects.filter(
            session=OuterRef("pk"), staff=OuterRef("assigned_staff")
        ).order_by("-created_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(latest_reason=Subquery(latest_reason.values("reason")[:1]))
        )

    @admin.display(description=gettext_lazy("first response"))
    def first_response(self, obj: ChatSession) -> str:
        if obj.first_response_at is None or obj.first_response_time is None:
            return _("Not answered yet")
        after = duration_in_language(policy.describe_duration(obj.first_response_time))
        at = timezone.localtime(obj.first_response_at)
        return _("%(at)s, %(after)s after the session opened") % {
            "at": f"{at:%Y-%m-%d %H:%M:%S %Z}",
            "after": after,
        }

    @admin.display(description=gettext_lazy("reassigned (not answered)"))
    def reassignments(self, obj: ChatSession) -> str:
        reasons = obj.assignment_events.filter(kind=AssignmentEvent.Kind.REASSIGNED).values_list(
            "reason", flat=True
        )
        shown = [reason_in_language(reason) for reason in reasons.order_by("created_at", "id")]
        return "; ".join(shown) or _("Never")

    def get_list_filter(self, request):
        if sees_all_sessions(request.user):
            return self.list_filter
        # Agents see only their own sessions: a filter by colleague would be empty noise.
        return [item for item in self.list_filter if not isinstance(item, tuple)]

    def has_add_permission(self, request):
        return False  # sessions come from the webhook

    def has_delete_permission(self, request, obj=None):
        # Close, don't delete: deleting an open session would leave its staff member's
        # open-session count (their capacity) wrong, and lose the record of who had it.
        return False

    def has_assign_permission(self, request) -> bool:
        return sees_all_sessions(request.user) and self.has_change_permission(request)

    @admin.display(description=gettext_lazy("Customer"), ordering="customer_name")
    def customer(self, obj: ChatSession) -> str:
        return obj.customer_name or obj.customer_id

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def state(self, obj: ChatSession) -> str:
        return _("Waiting") if obj.is_waiting else obj.get_status_display()

    @admin.display(description=gettext_lazy("Assigned to"), ordering="assigned_staff__name")
    def staff_member(self, obj: ChatSession) -> str:
        return obj.assigned_staff.name if obj.assigned_staff else "—"

    @admin.display(description=gettext_lazy("Assignment reason"))
    def assignment_reason(self, obj: WithAnnotations[ChatSession, LatestReason]) -> str:
        return reason_in_language(obj.latest_reason) if obj.latest_reason else "—"

    @admin.action(
        description=gettext_lazy("Assign or reassign to a staff member…"),
        permissions=["assign"],
    )
    def assign_sessions(self, request, queryset: QuerySet[ChatSession]):
        """First shows a page to choose the staff member; its form posts back here."""
        form = AssignSessionsForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._assign(request, queryset, form.cleaned_data["staff"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign or reassign sessions"),
            "opts": self.opts,
            "sessions": queryset.select_related("assigned_staff").order_by("created_at", "id"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/assignment/chatsession/assign_sessions.html", context
        )

    def _assign(self, request, queryset: QuerySet[ChatSession], staff: Staff) -> None:
        assigned = 0
        for session in queryset.order_by("created_at", "id"):
            try:
                policy.session_assign_manually(
                    session=session, staff=staff, assigned_by=request.user
                )
            except policy.AssignmentError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                assigned += 1
        if assigned:
            message = ngettext(
                "%(count)d session assigned to %(staff)s.",
                "%(count)d sessions assigned to %(staff)s.",
                assigned,
            ) % {"count": assigned, "staff": staff.name}
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Close selected sessions"), permissions=["change"])
    def close_sessions(self, request, queryset: QuerySet[ChatSession]):
        closed = sum(policy.session_close(session=session) for session in queryset)
        message = ngettext("%(count)d session closed.", "%(count)d sessions closed.", closed)
        self.message_user(request, message % {"count": closed}, messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(OwnSessionsOnlyMixin, admin.ModelAdmin):
    own_lookup = "session__assigned_staff__user"
    list_display = ["message_id", "session", "text_preview", "sent_at", "received_at"]
    list_select_related = ["session"]
    search_fields = ["message_id", "text", "session__customer_id"]
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Text"))
    def text_preview(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"


@admin.register(AssignmentEvent)
class AssignmentEventAdmin(OwnSessionsOnlyMixin, admin.ModelAdmin):
    own_lookup = "staff__user"
    list_display = [
        "created_at",
        "session",
        "staff",
        "kind",
        "reason_text",
        "candidates",
        "assigned_by",
    ]
    list_filter = ["kind", "staff"]
    list_select_related = ["session", "staff", "assigned_by"]
    search_fields = ["staff__name", "session__customer_id", "reason"]
    date_hierarchy = "created_at"
    # The reason as the reader's language says it (stored in English: assignment.reasons).
    exclude = ["reason"]
    readonly_fields = ["reason_text"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_text(self, obj: AssignmentEvent) -> str:
        return reason_in_language(obj.reason)


@admin.register(AssignmentSettings)
class AssignmentSettingsAdmin(admin.ModelAdmin):
    """The toggle has one home: its switch on the settings page's "Automatically assigning
    sessions" tab, which explains the rule and links the fix. The model stays registered so
    that its admin URLs (bookmarks, old links) lead to that tab, after the permission check
    Django's own view would make; it is left out of the index and sidebar, where the Chat
    Assistant entry links the tab already."""

    def has_module_permission(self, request):
        return False  # not listed on the index or the sidebar; its URLs still answer

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return self._to_the_tab(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._to_the_tab(request)

    def _to_the_tab(self, request) -> HttpResponseRedirect:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("chat_assistant:automatic-assignment")
