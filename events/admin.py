"""Endpoints and their delivery log, for store managers.

The secret is shown once, on the page that answers the creation (or a rotation), and never
again; every change goes through ``events.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import services
from events.models import SUBSCRIBABLE_TYPES, Delivery, Endpoint, EventType


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text=_("https:// and a public host (unless EVENTS_ALLOW_PRIVATE_URLS is on)."),
    )
    event_types = forms.MultipleChoiceField(
        choices=[(str(each), EventType(each).label) for each in SUBSCRIBABLE_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("event types"),
        help_text=_("None ticked: all of them."),
    )

    class Meta:
        model = Endpoint
        fields = ["url", "event_types", "active"]

    def clean_url(self) -> str:
        try:
            return services.check_endpoint_url(self.cleaned_data["url"])
        except services.EndpointError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_event_types(self) -> list[str]:
        return services.parse_event_types(self.cleaned_data["event_types"])


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "events", "active", "disabled_reason", "delivery_log")
    readonly_fields = ("disabled_reason", "secret_state", "created_at")
    change_form_template = "admin/events/endpoint/change_form.html"

    @admin.display(description=_("events"))
    def events(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.event_types)

    @admin.display(description=_("deliveries"))
    def delivery_log(self, endpoint: Endpoint) -> str:
        url = reverse("admin:events_delivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Delivery log"))

    @admin.display(description=_("secret"))
    def secret_state(self, endpoint: Endpoint) -> str:
        if endpoint.previous_secret_expires_at:
            return gettext("Rotated; the previous one signs until %(until)s.") % {
                "until": date_format(
                    timezone.localtime(endpoint.previous_secret_expires_at), "DATETIME_FORMAT"
                )
            }
        return gettext("Set (shown only when created or rotated).")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["url", "event_types"]
        return ["url", "event_types", "active", "disabled_reason", "secret_state", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_urls(self):
        own = [
            path(
                "<int:endpoint_id>/rotate/",
                self.admin_site.admin_view(self.rotate_view),
                name="events_endpoint_rotate",
            ),
            path(
                "<int:endpoint_id>/ping/",
                self.admin_site.admin_view(self.ping_view),
                name="events_endpoint_ping",
            ),
        ]
        return own + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        """Creation answers with the secret, once (not a redirect: it is never stored)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = EndpointForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            created = services.endpoint_add(
                url=form.cleaned_data["url"], event_types=form.cleaned_data["event_types"]
            )
            return self._secret_page(request, created, title=gettext("Endpoint created"))
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj: Endpoint, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and obj.active and obj.disabled_reason:
            services.endpoint_activate(endpoint_id=obj.pk)

    def rotate_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint_or_404(request, endpoint_id)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(endpoint.pk))
        try:
            created = services.endpoint_rotate(endpoint_id=endpoint.pk)
        except services.EndpointError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(self._change_url(endpoint.pk))
        return self._secret_page(request, created, title=gettext("Secret rotated"))

    def ping_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint_or_404(request, endpoint_id)
        if request.method == "POST":
            try:
                event = services.endpoint_ping(endpoint_id=endpoint.pk)
            except services.EndpointError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    gettext("Test event %(id)s queued; the worker sends it next.")
                    % {"id": event.webhook_id},
                )
        return HttpResponseRedirect(self._change_url(endpoint.pk))

    def _endpoint_or_404(self, request: HttpRequest, endpoint_id: int) -> Endpoint:
        if not self.has_change_permission(request):
            raise PermissionDenied
        endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise Http404(gettext("No such endpoint."))
        return endpoint

    def _change_url(self, endpoint_id: int) -> str:
        return reverse("admin:events_endpoint_change", args=[endpoint_id])

    def _secret_page(self, request, created: services.CreatedSecret, *, title: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "created": created,
            "change_url": self._change_url(created.endpoint_id),
        }
        response = TemplateResponse(request, "admin/events/endpoint/secret.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "session_link",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_latency_ms",
        "excerpt",
        "next_attempt_at",
        "endpoint_disabled_reason",
    )
    list_filter = ("status", "endpoint")
    list_select_related = ("event", "endpoint")
    actions = ["retry_now"]
    fields = (
        "event_type",
        "webhook_id",
        "session_link",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "last_latency_ms",
        "response_excerpt",
        "delivered_at",
        "endpoint_disabled_reason",
    )
    readonly_fields = fields

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description=_("webhook-id"))
    def webhook_id(self, delivery: Delivery) -> str:
        return delivery.event.webhook_id

    @admin.display(description=_("session"))
    def session_link(self, delivery: Delivery) -> str:
        if delivery.session_id is None:
            return "-"
        url = reverse("admin:assignment_chatsession_change", args=[delivery.session_id])
        return format_html('<a href="{}">#{}</a>', url, delivery.session_id)

    @admin.display(description=_("response"))
    def excerpt(self, delivery: Delivery) -> str:
        text = delivery.last_error or delivery.response_excerpt
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description=_("endpoint disabled because"))
    def endpoint_disabled_reason(self, delivery: Delivery) -> str:
        return delivery.endpoint.disabled_reason or "-"

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset: QuerySet[Delivery]) -> None:
        retried = services.deliveries_retry_now(delivery_ids=queryset.values_list("id", flat=True))
        messages.success(
            request,
            ngettext(
                "%(count)d delivery is due now; the worker sends it next.",
                "%(count)d deliveries are due now; the worker sends them next.",
                retried,
            )
            % {"count": retried},
        )

    def has_add_permission(self, request):
        return False
