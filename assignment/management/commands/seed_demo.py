from django.core.management.base import BaseCommand, CommandParser

from assignment import demo


class Command(BaseCommand):
    help = (
        "Load the demo store: working times in Taipei, London and New York (a night shift "
        "past midnight), eight staff (one away, one with a capacity of two, one without "
        "working hours), the last 14 days of chats replayed through the assignment policy "
        "(open, closed and waiting sessions), and automatic assignment on. Safe to run "
        "again: it re-applies the configuration and replays the history only into a store "
        "without sessions. --manager also creates or resets the 'manager' login (in the "
        "Store manager group) with a new random password and prints it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--manager", action="store_true", help="Create/reset the manager login and print it."
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/admin/",
            help="The admin address to print (default http://127.0.0.1:8000/admin/).",
        )

    def handle(self, *args, manager: bool, url: str, **options):
        summary = demo.seed_demo()
        self.stdout.write(_describe(summary))
        if manager:
            username, password = demo.ensure_manager()
            self.stdout.write(
                self.style.SUCCESS(f"Open {url} and log in as {username} / {password}")
            )
        self.stdout.write(
            "Try: manage.py on_duty; manage.py assign_waiting; "
            f"manage.py return_to_queue --staff {demo.AWAY_EMAIL}"
        )


def _describe(summary: demo.DemoSummary) -> str:
    loaded = (
        f"replayed {demo.HISTORY_DAYS} days, {summary.sessions_added} sessions added"
        if summary.sessions_added
        else "already loaded, configuration re-applied"
    )
    return (
        f"Demo store ready ({loaded}): {summary.working_times} working times in "
        f"{', '.join(summary.zones)}; {summary.staff} staff; {summary.sessions} sessions "
        f"({summary.open} open, {summary.waiting} of them waiting; {summary.closed} closed); "
        f"automatic assignment {'on' if summary.auto_assign else 'off'}."
    )
