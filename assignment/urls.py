from django.urls import path

from assignment import views

app_name = "assignment"
urlpatterns = [
    path("webhooks/messages/", views.messages_webhook, name="messages-webhook"),
]
