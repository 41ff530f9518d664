from django.core.management.base import BaseCommand

from assignment import demo


class Command(BaseCommand):
    help = (
        "Load the demo store (working times in Taipei, London and New York, eight staff, "
        "sessions in every state, automatic assignment on). Safe to run again: it upserts "
        "the configuration and adds sessions only once. --manager also creates or resets a "
        "'manager' login with a new random password and prints it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--manager", action="store_true", help="Create/reset the manager login and print it."
        )

    def handle(self, *args, manager: bool, **options):
        result = demo.seed_demo()
        self.stdout.write(f"Demo store ready ({result['sessions_added']} sessions added).")
        if manager:
            username, password = demo.ensure_manager()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Manager login: {username} / {password}  at http://127.0.0.1:8000/admin/"
                )
            )
