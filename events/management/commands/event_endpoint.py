import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import services
from events.models import Endpoint


class Command(BaseCommand):
    help = (
        "Manage the endpoints that receive outbound events: add, list, remove, ping (queue a "
        "test event), rotate (a new secret; the previous one signs beside it for 24 hours). "
        "A secret is printed only by add and rotate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="Create an active endpoint.")
        add.add_argument("url", metavar="URL")
        add.add_argument("--events", metavar="TYPE,...", help="Event types (default: all of them).")
        add.add_argument("--secret", metavar="whsec_...", help="Default: a new random one.")
        add.add_argument("--json", dest="as_json", action="store_true")
        listing = actions.add_parser("list", help="The endpoints (never their secrets).")
        listing.add_argument("--json", dest="as_json", action="store_true")
        for name, text in (("remove", "Delete an endpoint."), ("ping", "Queue a test event.")):
            actions.add_parser(name, help=text).add_argument("id", type=int, metavar="ID")
        rotate = actions.add_parser("rotate", help="Give an endpoint a new secret.")
        rotate.add_argument("id", type=int, metavar="ID")
        rotate.add_argument("--secret", metavar="whsec_...", help="Default: a new random one.")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except services.EndpointError as error:
            raise CommandError(str(error)) from None

    def _add(self, *, url: str, events: str | None, secret: str | None, as_json: bool, **_):
        types = events.split(",") if events is not None else None
        if events is not None and not any(each.strip() for each in types or []):
            raise CommandError("--events names no event type.")
        created = services.endpoint_add(url=url, event_types=types, secret=secret)
        if as_json:
            self.stdout.write(json.dumps(_created_json(created)))
        else:
            self.stdout.write(f"Endpoint {created.endpoint_id}: {created.url}")
            self.stdout.write(f"Events: {', '.join(created.events)}")
            self.stdout.write(f"Secret (shown only now): {created.secret}")

    def _list(self, *, as_json: bool, **_):
        endpoints = list(Endpoint.objects.order_by("id"))
        if as_json:
            self.stdout.write(json.dumps([_endpoint_json(each) for each in endpoints]))
            return
        if not endpoints:
            self.stdout.write("No endpoints.")
        for each in endpoints:
            state = "active" if each.active else f"disabled: {each.disabled_reason or 'off'}"
            self.stdout.write(f"{each.pk}\t{each.url}\t{','.join(each.event_types)}\t{state}")

    def _remove(self, *, id: int, **_):
        services.endpoint_remove(endpoint_id=id)
        self.stdout.write(f"Removed endpoint {id}.")

    def _ping(self, *, id: int, **_):
        event = services.endpoint_ping(endpoint_id=id)
        self.stdout.write(f"Queued ping {event.webhook_id} for endpoint {id}.")

    def _rotate(self, *, id: int, secret: str | None, **_):
        created = services.endpoint_rotate(endpoint_id=id, secret=secret)
        self.stdout.write(f"Endpoint {id} has a new secret (shown only now): {created.secret}")
        self.stdout.write("The previous secret keeps signing beside it for 24 hours.")


def _created_json(created: services.CreatedSecret) -> dict:
    return {
        "id": created.endpoint_id,
        "url": created.url,
        "secret": created.secret,
        "events": created.events,
    }


def _endpoint_json(endpoint: Endpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
    }
