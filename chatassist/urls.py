from django.contrib import admin
from django.urls import include, path

from chatassist import health

admin.site.site_header = "Chat Assist"
admin.site.site_title = "Chat Assist"
admin.site.index_title = "Store administration"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("assignment.urls")),
    path("admin/chat-assistant/", include("chatassist.pages.urls")),
    path("admin/chat-assistant/reports/", include("chatassist.reports.urls")),
    path("admin/", admin.site.urls),
]
