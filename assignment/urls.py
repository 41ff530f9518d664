from django.urls import path

from assignment import views

app_name = "assignment"
urlpatterns = [
    path("webhooks/messages/", views.messages_webhook, name="messages-webhook"),
    # The same webhook without the slash: a sender that drops it would otherwise meet
    # APPEND_SLASH, a redirect that loses the POST body (a RuntimeError, 500, with DEBUG on).
    path("webhooks/messages", views.messages_webhook, name="messages-webhook-no-slash"),
]
