from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from chatassist import health

admin.site.site_header = "Chat Assist"
admin.site.site_title = "Chat Assist"
admin.site.index_title = "Store administration"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("assignment.urls")),
    path("admin/chat-assistant/", include("chatassist.pages.urls")),
    path("admin/chat-assistant/reports/", include("chatassist.reports.urls")),
    # set_language (POST language=...): the language menu in the admin header.
    path("i18n/", include("django.conf.urls.i18n")),
    # The script's strings in the page's language (gettext() in settings.js).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["chatassist"]), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]
