from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "assignment"
    verbose_name = "Chat sessions and assignment"

    def ready(self) -> None:
        from assignment import signals  # noqa: F401 - connects the post_save receiver
