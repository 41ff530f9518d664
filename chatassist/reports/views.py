"""The manager's reports inside the admin: coverage of a week, who is next in line, and how
fairly sessions were spread. Thin: read a form, call a selector in ``assignment.reports``,
render. Each view runs a fixed number of queries, whatever the number of staff or events.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from assignment import policy
from assignment.reports import common
from assignment.reports import coverage as coverage_report
from assignment.reports import fairness as fairness_report
from assignment.reports import next_in_line as next_in_line_report
from chatassist.pages.permissions import SettingsPermissions
from chatassist.reports.charts import fairness_charts
from chatassist.reports.forms import MomentForm, WeekForm
from chatassist.reports.grid import week_grid

TABS = (
    ("coverage", gettext_lazy("Coverage")),
    ("next_in_line", gettext_lazy("Next in line")),
    ("fairness", gettext_lazy("Fairness")),
)


def manager_view(view):
    """The admin's login for anyone who is not active staff; 403 for staff who may not see
    the Chat Assistant settings page (the same rule: see chatassist.pages.permissions).
    Read-only pages: GET and HEAD only."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not SettingsPermissions.of(request.user).view:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(require_http_methods(["GET", "HEAD"])(checked))


def _render(request, template: str, *, current: str, title: str, **context):
    tabs = [
        {"url": reverse(f"chatassist_reports:{name}"), "label": label, "active": name == current}
        for name, label in TABS
    ]
    return render(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "report_tabs": tabs,
            "store_zone": common.store_zone(),
            **context,
        },
    )


@manager_view
def coverage(request):
    now = timezone.now()
    zone = common.store_zone()
    form = WeekForm(request.GET)
    week_of = (form.is_valid() and form.cleaned_data["week"]) or common.today_in(zone, now=now)
    report = coverage_report.coverage_report(week_of=week_of, zone=zone)
    first = report.week.days[0].day.date
    if form.is_valid() and not form.cleaned_data["week"]:
        form = WeekForm(initial={"week": first.isoformat()})  # the picker shows the week
    return _render(
        request,
        "chatassist/reports/coverage.html",
        current="coverage",
        title=_("Coverage"),
        form=form,
        grid=week_grid(report, now=now),
        first_day=first,
        last_day=report.week.days[-1].day.date,
        previous_week=_week_link(first - timedelta(days=7)),
        next_week=_week_link(first + timedelta(days=7)),
        is_this_week=report.week.start <= now < report.week.end,
    )


def _week_link(day) -> str | None:
    if not common.FIRST_DAY <= day <= common.LAST_DAY:
        return None
    return "?" + urlencode({"week": day.isoformat()})


@manager_view
def next_in_line(request):
    now = timezone.now()
    zone = common.store_zone()
    form = MomentForm(request.GET, zone=zone)
    chosen = form.is_valid() and form.cleaned_data["instant"] is not None
    at = form.cleaned_data["instant"] if chosen else now
    other_fold = None
    if form.is_valid() and form.repeated:
        other_fold = "?" + urlencode(
            {"at": form.cleaned_data["at"], "fold": 1 - form.cleaned_data["fold"]}
        )
    if not form.is_bound or not form.data.get("at"):
        form = MomentForm(
            initial={"at": now.astimezone(zone).strftime("%Y-%m-%dT%H:%M")}, zone=zone
        )
    local = at.astimezone(zone)
    return _render(
        request,
        "chatassist/reports/next_in_line.html",
        current="next_in_line",
        title=_("Next in line"),
        form=form,
        line=next_in_line_report.next_in_line(at=at, now=now),
        chosen=chosen,
        # Formatted here: the template's "T" is blank for a time the clocks repeat.
        at_text=f"{date_format(local, 'DATETIME_FORMAT')} {local:%Z}",
        at_clock=f"{local:%H:%M %Z}",
        other_fold=other_fold,
        auto_assign=policy.auto_assign_enabled(),
        queue=next_in_line_report.queue_counts(),
    )


@manager_view
def fairness(request):
    periods = fairness_report.fairness(now=timezone.now())
    return _render(
        request,
        "chatassist/reports/fairness.html",
        current="fairness",
        title=_("Fairness"),
        periods=fairness_charts(periods),
    )
