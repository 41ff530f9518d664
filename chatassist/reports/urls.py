from django.urls import path

from chatassist.reports import views

app_name = "chatassist_reports"

urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("next-in-line/", views.next_in_line, name="next_in_line"),
    path("fairness/", views.fairness, name="fairness"),
]
