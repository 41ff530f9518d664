from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "assignment"
    verbose_name = "Chat sessions and assignment"

    def ready(self) -> None:
        from assignment import checks, signals  # noqa: F401 - registers them
