import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assignment.reports import common, coverage


class Command(BaseCommand):
    help = (
        "For each day of a week (Monday to Sunday in the store's time zone, STORE_TIME_ZONE), "
        "list the stretches when nobody is on duty (gaps: sessions would wait) and when only "
        "one person is. Working hours are read in each working time's own zone and shown in "
        "the store's; a day the clocks change is 23 or 25 hours long. Away staff and staff "
        "without a working time count as nobody; two staff on one working time count as two."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = (
            "Examples: 'coverage_report' (this week), 'coverage_report --week-of 2026-10-25 "
            "--json'. Exits with status 1 and a message on a bad argument."
        )
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--week-of",
            metavar="DATE",
            help="Any date (YYYY-MM-DD) in the week to report; default: this week in the "
            "store's time zone.",
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help="Print JSON: per day its start and end (ISO 8601 with the store's offset), "
            "length in hours, clock change, gaps and single-person stretches (with the staff "
            "member).",
        )

    def handle(self, *args, week_of: str | None, as_json: bool, **options):
        zone = common.store_zone()
        if week_of is None:
            day = common.today_in(zone, now=timezone.now())
        else:
            try:
                day = common.parse_week_of(week_of)
            except ValueError as error:
                raise CommandError(f"--week-of: {error}") from None
        report = coverage.coverage_report(week_of=day, zone=zone)
        if as_json:
            document = coverage.coverage_as_json(report)
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            self.stdout.write("\n".join(coverage.coverage_as_lines(report)))
