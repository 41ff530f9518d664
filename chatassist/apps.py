from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatassistConfig(AppConfig):
    name = "chatassist"
    verbose_name = _("Chat Assist")
