from django.apps import AppConfig


class ChatassistConfig(AppConfig):
    name = "chatassist"
    verbose_name = "Chat Assist"
