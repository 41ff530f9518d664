"""The Chat Assistant settings page, inside the admin: two tabs and the actions on them.

Every action is a plain HTML form post (the page works without JavaScript) and goes through
the services the import command uses: ``staff.services.working_time_save`` for working
times and ``assignment.config`` for everything the toggle rule touches. The small script
(static/chatassist/settings.js) only makes the same posts nicer: a modal pop-up, ranges
added without a round trip, a working time created from a staff row's dropdown without
leaving the page (it asks for JSON by sending ``Accept: application/json``).

The admin's add and change pages of a working time lead to the same pop-up
(``chatassist.admin.WorkingTimeAdmin``); opened from the staff form's "+" or pencil it runs
as Django's related-object pop-up window and ends as one (``chatassist.pages.popup``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from assignment import config, policy
from assignment.models import AssignmentSettings
from chatassist.pages import selectors, time_zones
from chatassist.pages.forms import (
    AutoAssignToggleForm,
    HandoverSettingsForm,
    StaffWorkingTimeForm,
    WorkingTimeForm,
)
from chatassist.pages.permissions import SettingsPermissions
from chatassist.pages.popup import AdminPopup
from staff import services as staff_services
from staff.models import Staff, WorkingTime

PAGE_TITLE = gettext_lazy("Chat Assistant settings")
WORKING_TIMES = "working-times"
AUTOMATIC = "automatic-assignment"
TABS = {
    WORKING_TIMES: gettext_lazy("Working time"),
    AUTOMATIC: gettext_lazy("Automatically assigning sessions"),
}
TEMPLATES = {
    WORKING_TIMES: "chatassist/settings/working_times.html",
    AUTOMATIC: "chatassist/settings/automatic_assignment.html",
}
FORM_TEMPLATE = "chatassist/settings/_working_time_form.html"


def tab_url(tab: str) -> str:
    return reverse(f"chat_assistant:{tab}")


@dataclass(frozen=True)
class Origin:
    """Where the working-time pop-up was opened: the tab to go back to; when opened from a
    staff row's dropdown, that staff member (the new working time is chosen for them); when
    opened from the admin's staff form, that pop-up window."""

    tab: str = WORKING_TIMES
    for_staff: int | None = None
    admin_popup: AdminPopup | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Origin:
        params = request.POST if request.method == "POST" else request.GET
        admin_popup = AdminPopup.of(request, params)
        staff_id = params.get("for_staff", "")
        if staff_id.isdigit():
            return cls(AUTOMATIC, int(staff_id), admin_popup)
        tab = params.get("return_to")
        return cls(tab if tab in TABS else WORKING_TIMES, admin_popup=admin_popup)


@dataclass
class Dialog:
    """The working-time pop-up: its form, where it came from, and whether it shows open."""

    form: WorkingTimeForm
    origin: Origin = field(default_factory=Origin)
    is_open: bool = False

    @property
    def working_time(self) -> WorkingTime | None:
        return self.form.working_time

    @property
    def title(self) -> str:
        return _("Edit the working time") if self.working_time else _("Create the working time")

    @property
    def action(self) -> str:
        if self.working_time is not None:
            return reverse("chat_assistant:working-time-edit", args=[self.working_time.pk])
        return reverse("chat_assistant:working-time-create")

    @property
    def cancel_url(self) -> str:
        return tab_url(self.origin.tab)

    @property
    def store_time_zone(self) -> str:
        return settings.STORE_TIME_ZONE


@dataclass(frozen=True)
class DeleteDialog:
    working_time: WorkingTime
    users: list[str]


def _permissions(request: HttpRequest, *needed: str) -> SettingsPermissions:
    can = SettingsPermissions.of(request.user)
    can.require(*needed)
    return can


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


# --- The two tabs ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def working_times_tab(request: HttpRequest) -> HttpResponse:
    return _page(request, _permissions(request), WORKING_TIMES)


@require_http_methods(["GET", "HEAD"])
def automatic_assignment_tab(request: HttpRequest) -> HttpResponse:
    # ?staff=<id>&working_time=<id>: a working time just created from that staff row's
    # dropdown, shown chosen there until the manager saves it.
    staff_id, working_time_id = request.GET.get("staff", ""), request.GET.get("working_time", "")
    pending = None
    if staff_id.isdigit() and working_time_id.isdigit():
        pending = (int(staff_id), int(working_time_id))
    return _page(request, _permissions(request), AUTOMATIC, pending=pending)


def _page(
    request: HttpRequest,
    can: SettingsPermissions,
    tab: str,
    *,
    dialog: Dialog | None = None,
    delete: DeleteDialog | None = None,
    pending: tuple[int, int] | None = None,
    handover_form: HandoverSettingsForm | None = None,
) -> TemplateResponse:
    now = timezone.now()
    # In the admin's pop-up window only the dialog shows, without header, sidebar or tabs.
    is_popup = dialog is not None and dialog.origin.admin_popup is not None
    context = {
        **admin.site.each_context(request),
        "is_popup": is_popup,
        "title": PAGE_TITLE,
        "subtitle": TABS[tab],
        "tab": tab,
        "tabs": [{"key": key, "label": label, "url": tab_url(key)} for key, label in TABS.items()],
        "can": can,
        "working_times": selectors.working_times_with_usage(with_staff_names=tab == WORKING_TIMES),
        "dialog": dialog,
        # The empty pop-up the script clones for "Create the working time" (no round trip).
        "blank_dialog": _blank_dialog(tab) if can.add_working_time and not is_popup else None,
        "delete": delete,
    }
    if tab == WORKING_TIMES:
        context["working_time_rows"] = selectors.working_time_rows(
            context["working_times"], now=now
        )
    if tab == AUTOMATIC:
        rows = selectors.staff_rows(now=now, pending=pending)
        context |= {
            "staff_rows": rows,
            "auto_assign": policy.auto_assign_enabled(),
            # The toggle rule as the page shows it; auto_assign_set() is what enforces it.
            "rule_met": any(row.staff.working_time_id for row in rows),
            "handover_form": handover_form or _handover_form(),
        }
    return TemplateResponse(request, TEMPLATES[tab], context)


def _blank_dialog(tab: str) -> Dialog:
    return Dialog(WorkingTimeForm(today=_store_today()), Origin(tab))


# --- Working times: create, edit, delete -------------------------------------------------------


@require_http_methods(["GET", "POST"])
def working_time_create(request: HttpRequest) -> HttpResponse:
    can = _permissions(request, "add_working_time")
    return _working_time_dialog(request, can, working_time=None)


@require_http_methods(["GET", "POST"])
def working_time_edit(request: HttpRequest, pk: int) -> HttpResponse:
    can = _permissions(request, "change_working_time")
    return _working_time_dialog(request, can, working_time=get_object_or_404(WorkingTime, pk=pk))


def _working_time_dialog(
    request: HttpRequest, can: SettingsPermissions, *, working_time: WorkingTime | None
) -> HttpResponse:
    """GET shows the pop-up open (the no-JavaScript way to it); POST saves or redisplays it
    with every error next to its input and everything typed kept."""
    origin = Origin.of(request)
    data = request.POST if request.method == "POST" else None
    form = WorkingTimeForm(data, working_time=working_time, today=_store_today())
    dialog = Dialog(form, origin, is_open=True)
    if data is None:
        return _page(request, can, origin.tab, dialog=dialog)
    if form.apply_editor_action():
        if _wants_json(request):  # the script shows the edited pop-up in place
            html = render_to_string(FORM_TEMPLATE, {"dialog": dialog}, request=request)
            return JsonResponse({"editing": True, "html": html})
        return _page(request, can, origin.tab, dialog=dialog)
    saved = _save_working_time(form) if form.is_valid() else None
    if saved is not None:
        return _saved(request, saved, created=working_time is None, origin=origin)
    if _wants_json(request):
        html = render_to_string(FORM_TEMPLATE, {"dialog": dialog}, request=request)
        return JsonResponse({"errors": form.error_summary(), "html": html}, status=400)
    return _page(request, can, origin.tab, dialog=dialog)


def _store_today() -> date:
    return timezone.now().astimezone(ZoneInfo(settings.STORE_TIME_ZONE)).date()


def _save_working_time(form: WorkingTimeForm) -> WorkingTime | None:
    try:
        return staff_services.working_time_save(
            name=form.cleaned_data["name"],
            timezone=form.cleaned_data["timezone"],
            hours=form.hours,
            working_time=form.working_time,
            exceptions=form.exceptions,
            exception_names=form.exception_names,
        )
    except ValidationError as error:
        form.add_service_errors(error)
    except IntegrityError:  # another manager saved the same name a moment ago
        form.add_error("name", _("A working time with this name exists already."))
    return None


def _saved(
    request: HttpRequest, saved: WorkingTime, *, created: bool, origin: Origin
) -> HttpResponse:
    if origin.admin_popup is not None:
        edited_id = None if created else saved.pk
        return origin.admin_popup.saved_response(request, saved, edited_id=edited_id)
    member = None
    if created and origin.for_staff is not None:
        member = Staff.objects.filter(pk=origin.for_staff).only("id", "name").first()
    if member is not None:
        query = urlencode({"staff": member.pk, "working_time": saved.pk})
        url = f"{tab_url(AUTOMATIC)}?{query}#staff-{member.pk}"
        message = _(
            "Working time “%(name)s” created. Press the save icon to give it to %(staff)s."
        ) % {"name": saved.name, "staff": member.name}
    else:
        url = tab_url(origin.tab)
        done = (
            _("Working time “%(name)s” created.")
            if created
            else _("Working time “%(name)s” saved.")
        )
        message = done % {"name": saved.name}
    if not _wants_json(request):
        messages.success(request, message)
        return redirect(url)
    if member is None:  # the script goes to `redirect`, where the message shows
        messages.success(request, message)
    body = {
        "working_time": {
            "id": saved.pk,
            "name": saved.name,
            "timezone": saved.timezone,
            "summary": saved.summary(),
        },
        "message": message,
        "redirect": url,
    }
    return JsonResponse(body, status=201 if created else 200)


@require_http_methods(["GET", "POST"])
def working_time_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (naming who still uses it); POST deletes."""
    can = _permissions(request, "delete_working_time")
    working_time = get_object_or_404(WorkingTime, pk=pk)
    if request.method == "GET":
        users = list(working_time.staff.order_by("name").values_list("name", flat=True))
        return _page(request, can, WORKING_TIMES, delete=DeleteDialog(working_time, users))
    try:
        config.working_time_delete(working_time=working_time)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Working time “%(name)s” deleted.") % {"name": working_time.name}
        )
    return redirect(tab_url(WORKING_TIMES))


# --- Staff rows and the toggle ---------------------------------------------------------------


@require_POST
def staff_working_time(request: HttpRequest, pk: int) -> HttpResponse:
    """The disk icon of a staff row: give the chosen working time, or take it away."""
    _permissions(request, "set_staff_working_time")
    member = get_object_or_404(Staff.objects.select_related("working_time"), pk=pk)
    back = f"{tab_url(AUTOMATIC)}#staff-{member.pk}"
    form = StaffWorkingTimeForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(error) for error in form.errors["working_time"])
        messages.error(
            request, _("%(staff)s: %(problems)s") % {"staff": member.name, "problems": problems}
        )
        return redirect(back)
    chosen, previous = form.cleaned_data["working_time"], member.working_time
    if chosen == previous:
        messages.info(request, _unchanged_message(member))
        return redirect(back)
    try:
        config.staff_set_working_time(staff=member, working_time=chosen)
    except ValidationError as error:
        messages.error(request, _refused_message(member, previous, error))
    else:
        messages.success(request, _saved_message(member, chosen))
    return redirect(back)


def _unchanged_message(member: Staff) -> str:
    if member.working_time is None:
        return _("Nothing to save: choose a working time for %(staff)s with “+ Working hour”.") % {
            "staff": member.name
        }
    return _("Nothing to save: %(staff)s already works “%(working_time)s”.") % {
        "staff": member.name,
        "working_time": member.working_time.name,
    }


def _saved_message(member: Staff, chosen: WorkingTime | None) -> str:
    if chosen is None:
        return _("Saved: %(staff)s has no working time now and gets no sessions by rule.") % {
            "staff": member.name
        }
    return _("Saved: %(staff)s now works “%(working_time)s”.") % {
        "staff": member.name,
        "working_time": chosen.name,
    }


def _refused_message(member: Staff, previous: WorkingTime | None, error: ValidationError) -> str:
    if error.messages == [str(config.TOGGLE_RULE_MESSAGE)] and previous is not None:
        return _(
            "%(staff)s keeps “%(working_time)s”: automatic assignment is on, and it needs "
            "at least one staff member with a working time. Give another staff member a "
            "working time first, or turn automatic assignment off."
        ) % {"staff": member.name, "working_time": previous.name}
    return _("%(staff)s: %(problems)s") % {
        "staff": member.name,
        "problems": " ".join(error.messages),
    }


@require_POST
def auto_assign_toggle(request: HttpRequest) -> HttpResponse:
    """The switch in the upper right corner: ``enabled=on`` or ``enabled=off``."""
    _permissions(request, "toggle")
    form = AutoAssignToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether automatic assignment is on or off."))
    else:
        try:
            config.auto_assign_set(enabled=form.turn_on)
        except ValidationError as error:
            messages.error(
                request,
                _("%(problems)s Use “+ Working hour” in the staff list below.")
                % {"problems": " ".join(error.messages)},
            )
        else:
            messages.success(request, ON_MESSAGE if form.turn_on else OFF_MESSAGE)
    return redirect(tab_url(AUTOMATIC))


@require_POST
def handover_settings(request: HttpRequest) -> HttpResponse:
    """The "Nobody left unanswered" settings on the Automatically assigning sessions tab."""
    can = _permissions(request, "toggle")
    form = HandoverSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The unanswered-session settings were not saved; see below."))
        response = _page(request, can, AUTOMATIC, handover_form=form)
        response.status_code = 400
        return response
    config.handover_settings_set(**form.cleaned_data)
    messages.success(request, _("Saved the settings for unanswered sessions."))
    return redirect(tab_url(AUTOMATIC) + "#ca-handover")


def _handover_form() -> HandoverSettingsForm:
    row = AssignmentSettings.objects.filter(pk=AssignmentSettings.SINGLETON_ID).first()
    return HandoverSettingsForm(
        initial={
            "reassign_unanswered_after_minutes": row.reassign_unanswered_after_minutes
            if row
            else None,
            "return_unanswered_at_shift_end": bool(row and row.return_unanswered_at_shift_end),
            "return_open_sessions_when_away": bool(row and row.return_open_sessions_when_away),
        }
    )


ON_MESSAGE = gettext_lazy(
    "Automatic assignment is on: each new session goes at once to the staff member on duty "
    "who is next in line."
)
OFF_MESSAGE = gettext_lazy(
    "Automatic assignment is off: new sessions wait for a manager to assign them."
)


# --- The time zone picker's search -------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def time_zone_search(request: HttpRequest) -> JsonResponse:
    """``?q=beijing``: the zones the picker's search box finds, in the picker's order, with
    the sentence to show (``message``, empty when some match). The script hides the rest."""
    _permissions(request)
    query = request.GET.get("q", "")[:100]
    found = time_zones.search_zones(query, language=time_zones.page_language(), now=timezone.now())
    message = ""
    if not found:
        message = _(
            "No time zone matches “%(query)s”. "
            "Try a city, a country or an offset such as UTC+08:00."
        ) % {"query": query.strip()}
    zones = [{"zone": entry.zone, "label": entry.label} for entry in found]
    return JsonResponse({"query": query, "zones": zones, "message": message})
