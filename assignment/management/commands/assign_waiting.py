from django.core.management.base import BaseCommand

from assignment import policy


class Command(BaseCommand):
    help = (
        "Assign open, unassigned sessions, oldest first, to staff on duty now, by the same "
        "policy as new sessions. Does nothing while automatic assignment is off. Safe to run "
        "from cron every minute on several hosts at once."
    )

    def handle(self, *args, **options):
        if not policy.auto_assign_enabled():
            self.stdout.write("Automatic assignment is off: nothing assigned.")
            return
        assigned = 0
        while policy.assign_one_waiting() is not None:
            assigned += 1
        waiting = policy.waiting_sessions().count()
        self.stdout.write(f"Assigned {assigned} waiting sessions; {waiting} still waiting.")
