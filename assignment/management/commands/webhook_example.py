import json
import shlex
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignment.signatures import WebhookSecret


class Command(BaseCommand):
    help = (
        "Print a ready-to-run curl command that delivers one signed message to the webhook, "
        "using this installation's WEBHOOK_SECRET (valid for 5 minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/webhooks/messages/")
        parser.add_argument("--customer-id", default="demo-customer")
        parser.add_argument("--customer-name", default="Demo Customer")
        parser.add_argument("--channel", default="web")
        parser.add_argument("--text", default="Hello, is anyone there?")
        parser.add_argument("--message-id", help="Default: a new random id.")

    def handle(self, *args, **options):
        secret = WebhookSecret.parse(settings.WEBHOOK_SECRET)
        if secret is None:
            raise CommandError("WEBHOOK_SECRET is not set to a whsec_... value.")
        body = json.dumps(
            {
                "message_id": options["message_id"] or f"m-{uuid.uuid4().hex[:12]}",
                "customer_id": options["customer_id"],
                "customer_name": options["customer_name"],
                "channel": options["channel"],
                "text": options["text"],
            }
        )
        msg_id, timestamp = f"evt-{uuid.uuid4().hex[:12]}", int(time.time())
        signature = secret.sign(msg_id=msg_id, timestamp=timestamp, body=body.encode())
        parts = [
            "curl",
            "-sS",
            "-i",
            "-X",
            "POST",
            options["url"],
            "-H",
            "content-type: application/json",
            "-H",
            f"webhook-id: {msg_id}",
            "-H",
            f"webhook-timestamp: {timestamp}",
            "-H",
            f"webhook-signature: {signature}",
            "--data-raw",
            body,
        ]
        self.stdout.write(" ".join(shlex.quote(part) for part in parts))
