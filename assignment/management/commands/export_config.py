import json

from django.core.management.base import BaseCommand

from assignment import config


class Command(BaseCommand):
    help = (
        "Print the whole assignment configuration as JSON on standard output, in the form "
        "import_config reads (a backup, or a copy to another store)."
    )

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(config.export_config(), indent=2, ensure_ascii=False))
