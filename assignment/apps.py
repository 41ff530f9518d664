from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentConfig(AppConfig):
    name = "assignment"
    verbose_name = _("Chat sessions and assignment")

    def ready(self) -> None:
        from assignment import checks, signals  # noqa: F401 - registers them
