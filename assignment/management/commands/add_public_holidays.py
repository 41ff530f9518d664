from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import get_language

from staff import holidays, services
from staff.models import WorkingTime


class Command(BaseCommand):
    help = (
        "Add a country's public holidays of a year to a working time as closed days (from the "
        "holidays package's data). A date that already has an exception is reported and left "
        "as it is, so running it twice adds nothing new."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = (
            'Example: \'add_public_holidays --working-time "Taipei day" --country TW --year '
            "2027 --dry-run'. Exits with status 1 and a message on an unknown working time, "
            "country or subdivision."
        )
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--working-time", required=True, metavar="NAME")
        parser.add_argument(
            "--country", required=True, metavar="CC", help="ISO 3166 code, e.g. TW, JP, US."
        )
        parser.add_argument(
            "--subdiv", metavar="X", help="A subdivision where holidays differ, e.g. US CA."
        )
        parser.add_argument("--year", required=True, type=int, metavar="YYYY")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be added; change nothing."
        )

    def handle(self, *args, working_time, country, subdiv, year, dry_run, **options):
        target = WorkingTime.objects.filter(name=working_time).first()
        if target is None:
            known = WorkingTime.objects.values_list("name", flat=True)
            names = ", ".join(repr(name) for name in known)
            raise CommandError(
                f"No working time is called {working_time!r} (there are: {names or 'none'})."
            )
        code = country.strip().upper()
        try:
            language = holidays.holiday_language(code, get_language())
            result = services.public_holidays_add(
                working_time=target,
                country=code,
                year=year,
                subdiv=subdiv,
                language=language,
                dry_run=dry_run,
            )
        except holidays.HolidayLookupError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        verb = "would add" if dry_run else "added"
        for exception in result.added:
            self.stdout.write(f"{exception.day.isoformat()} {exception.name}: {verb} (closed)")
        for exception in result.skipped:
            label = f" ({exception.name})" if exception.name else ""
            self.stdout.write(f"{exception.day.isoformat()}: skipped, already an exception{label}")
        where = f"{code}-{subdiv}" if subdiv else code
        summary = (
            f"{'Would add' if dry_run else 'Added'} {len(result.added)} closed days of {where} "
            f"{year} to {target.name!r}; skipped {len(result.skipped)} already there."
        )
        self.stdout.write(summary)
