"""URLs of the Chat Assistant settings page, mounted at /admin/chat-assistant/.

Every view is wrapped by ``admin.site.admin_view``: admin login required (anonymous users go
to the login page), CSRF-protected, never cached. The views check the model permissions.
"""

from django.contrib import admin
from django.urls import path

from chatassist.pages import views

app_name = "chat_assistant"


def _admin(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _admin(views.working_times_tab), name="working-times"),
    path(
        "automatic-assignment/",
        _admin(views.automatic_assignment_tab),
        name="automatic-assignment",
    ),
    path("automatic-assignment/toggle/", _admin(views.auto_assign_toggle), name="toggle"),
    path(
        "automatic-assignment/unanswered/",
        _admin(views.handover_settings),
        name="handover-settings",
    ),
    path("working-times/new/", _admin(views.working_time_create), name="working-time-create"),
    path("working-times/<int:pk>/", _admin(views.working_time_edit), name="working-time-edit"),
    path(
        "working-times/<int:pk>/delete/",
        _admin(views.working_time_delete),
        name="working-time-delete",
    ),
    path("time-zones/", _admin(views.time_zone_search), name="time-zone-search"),
    path(
        "staff/<int:pk>/working-time/",
        _admin(views.staff_working_time),
        name="staff-working-time",
    ),
]
