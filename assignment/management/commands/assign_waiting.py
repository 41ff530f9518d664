import json
import threading

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from assignment import policy, queue_worker
from assignment.progress import TerminalProgress


class Command(BaseCommand):
    help = (
        "Assign open, unassigned sessions, oldest first, to staff on duty now, by the same "
        "policy as new sessions; then, in the same run, the hand-overs switched on in the "
        "settings (reassign sessions nobody answered in time, return the unanswered sessions "
        "of staff whose working hours ended, return the sessions of staff marked away). "
        "Does nothing while automatic assignment is off. "
        "One-shot (the default) drains the queue and exits: safe from cron every minute on "
        "several hosts at once. --loop runs as a worker until SIGTERM or SIGINT, which stop "
        "it between two sessions; it sleeps --interval seconds when there is nothing to do "
        "and waits for the database to come back after a restart. "
        "Exit status: 0 done (or stopped by a signal), 1 error (the database is unavailable "
        "in the one-shot form, a bad option), 2 bad usage on the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--loop", action="store_true", help="Run as a long-running worker (see above)."
        )
        mode.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='One-shot: print {"auto_assign", "assigned", "waiting"} as JSON.',
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="--loop: seconds to sleep when nothing can be assigned (default 5).",
        )
        parser.add_argument(
            "--max-backoff",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="--loop: longest wait between retries while the database is down (default 30).",
        )

    def handle(self, *args, loop: bool, as_json: bool, interval: float, max_backoff: float, **opts):
        if not 0 < interval <= 3600:
            raise CommandError(f"--interval {interval:g} must be more than 0 and at most 3600.")
        if not 1 <= max_backoff <= 3600:
            raise CommandError(f"--max-backoff {max_backoff:g} must be between 1 and 3600.")
        if loop:
            assigned = self._run_worker(interval=interval, max_backoff=max_backoff)
            if opts["verbosity"] >= 1:
                self.stdout.write(f"Stopped after assigning {assigned} waiting sessions.")
            return
        try:
            result = self._drain()
        except DatabaseError as error:
            raise CommandError(f"The database is unavailable: {error}".strip()) from None
        if as_json:
            self.stdout.write(json.dumps(result))
        elif opts["verbosity"] >= 1:
            self.stdout.write(_describe(result))

    def _drain(self) -> dict:
        if not policy.auto_assign_enabled():
            return {"auto_assign": False, "assigned": 0, "waiting": _waiting_count()}
        stopping = threading.Event()
        progress = TerminalProgress(
            self.stderr, label="Assigning waiting sessions", total=_waiting_count()
        )
        with queue_worker.stop_on_signals(stopping):
            assigned = queue_worker.drain_queue(should_stop=stopping.is_set, on_progress=progress)
        progress.finish(assigned)
        return {"auto_assign": True, "assigned": assigned, "waiting": _waiting_count()}

    def _run_worker(self, *, interval: float, max_backoff: float) -> int:
        worker = queue_worker.QueueWorker(idle_interval=interval, max_backoff=max_backoff)
        with queue_worker.stop_on_signals(worker.stopping):
            return worker.run()


def _waiting_count() -> int:
    return policy.waiting_sessions().count()


def _describe(result: dict) -> str:
    if not result["auto_assign"]:
        return "Automatic assignment is off: nothing assigned."
    return f"Assigned {result['assigned']} waiting sessions; {result['waiting']} still waiting."
