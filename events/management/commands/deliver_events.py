import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from events import delivery, worker


class Command(BaseCommand):
    help = (
        "Send every outbound event delivery that is due. Without --loop it returns once "
        "nothing is due now; --loop runs as a worker until SIGTERM or SIGINT. Safe to run on "
        "several hosts at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Run as a long-running worker.")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="--loop: seconds to sleep when nothing is due (default 1).",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            metavar="N",
            help=(
                "Deliveries sent at a time, 1 to 64 (default EVENTS_DELIVERY_CONCURRENCY, 8). "
                "One session's events still go one after the other."
            ),
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help='One-shot: print {"fanned_out", "attempted", "delivered"} as JSON.',
        )

    def handle(
        self, *args, loop: bool, interval: float, concurrency: int | None, as_json: bool, **options
    ):
        if not 0 < interval <= 3600:
            raise CommandError(f"--interval {interval:g} must be more than 0 and at most 3600.")
        if concurrency is not None and not 1 <= concurrency <= 64:
            raise CommandError(f"--concurrency {concurrency} must be between 1 and 64.")
        if loop:
            done = worker.run_worker(idle_interval=interval, senders=concurrency)
        else:
            try:
                done = delivery.deliver_all_due(senders=concurrency)
            except DatabaseError as error:
                raise CommandError(f"The database is unavailable: {error}".strip()) from None
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "fanned_out": done.fanned_out,
                        "attempted": done.attempted,
                        "delivered": done.delivered,
                    }
                )
            )
        elif options["verbosity"] >= 1:
            self.stdout.write(
                f"Sent {done.attempted} deliveries, {done.delivered} delivered "
                f"({done.fanned_out} new events)."
            )
