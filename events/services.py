"""Managing endpoints: add, remove, rotate a secret, send a test event, retry a delivery.

Every face (``event_endpoint``, the admin) goes through these. A secret is returned once,
by ``endpoint_add`` and ``endpoint_rotate``, and never again.
"""

from __future__ import annotations

import base64
import secrets as random_secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from assignment.signatures import WebhookSecret
from events import outbox, safety
from events.models import SUBSCRIBABLE_TYPES, Delivery, Endpoint, Event

ROTATION_OVERLAP = timedelta(hours=24)


class EndpointError(Exception):
    """The request is refused and nothing changed; the message says why."""


@dataclass(frozen=True)
class CreatedSecret:
    """An endpoint with its secret: the only time the secret is handed out."""

    endpoint_id: int
    url: str
    secret: str
    events: list[str]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(32)).decode("ascii")


def parse_event_types(types: Iterable[str] | None) -> list[str]:
    """The types asked for, checked, in the contract's order; all of them when None/empty."""
    wanted = [each.strip() for each in (types or []) if each.strip()]
    known = [str(each) for each in SUBSCRIBABLE_TYPES]
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise EndpointError(
            gettext("Unknown event type(s): %(unknown)s. Known: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(known)}
        )
    return [each for each in known if each in wanted] if wanted else known


def check_secret(secret: str) -> str:
    if WebhookSecret.parse(secret) is None:
        raise EndpointError(gettext('The secret must be "whsec_" followed by base64.'))
    return secret


def check_endpoint_url(url: str) -> str:
    try:
        safety.check_url(url)
    except safety.UnsafeURL as refused:
        raise EndpointError(str(refused)) from None
    if len(url) > Endpoint._meta.get_field("url").max_length:  # type: ignore[operator]
        raise EndpointError(gettext("The URL is too long (at most 2000 characters)."))
    return url.strip()


def endpoint_add(
    *, url: str, event_types: Iterable[str] | None = None, secret: str | None = None
) -> CreatedSecret:
    """A new active endpoint; its secret (generated unless given) is returned this once."""
    url = check_endpoint_url(url)
    types = parse_event_types(event_types)
    secret = check_secret(secret) if secret is not None else new_secret()
    endpoint = Endpoint.objects.create(url=url, event_types=types, secret=secret)
    return CreatedSecret(endpoint.pk, endpoint.url, secret, types)


def endpoint_rotate(*, endpoint_id: int, secret: str | None = None, now: datetime | None = None):
    """A new secret; the current one keeps signing beside it for 24 hours."""
    now = now or timezone.now()
    secret = check_secret(secret) if secret is not None else new_secret()
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if secret == endpoint.secret:
            raise EndpointError(gettext("The new secret is the current one."))
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return CreatedSecret(endpoint.pk, endpoint.url, secret, list(endpoint.event_types))


def endpoint_remove(*, endpoint_id: int) -> None:
    deleted, _ = Endpoint.objects.filter(pk=endpoint_id).delete()
    if not deleted:
        raise EndpointError(gettext("No endpoint has the id %(id)s.") % {"id": endpoint_id})


def endpoint_ping(*, endpoint_id: int, now: datetime | None = None) -> Event:
    """Queue a ``ping`` for the endpoint (sent by the next ``deliver_events``)."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if not endpoint.active:
            raise EndpointError(
                gettext("Endpoint %(id)s is disabled (%(why)s); activate it first.")
                % {"id": endpoint.pk, "why": endpoint.disabled_reason or gettext("inactive")}
            )
        return outbox.ping(endpoint_id=endpoint.pk, at=now or timezone.now())


def endpoint_activate(*, endpoint_id: int) -> None:
    """Turn an endpoint back on; its pending deliveries resume, in order."""
    Endpoint.objects.filter(pk=endpoint_id).update(
        active=True, disabled_reason="", failing_since=None
    )


def deliveries_retry_now(*, delivery_ids: Iterable[int], now: datetime | None = None) -> int:
    """Make deliveries due now (given-up ones pending again, with three more days of
    retries); returns how many."""
    now = now or timezone.now()
    return (
        Delivery.objects.filter(pk__in=list(delivery_ids))
        .exclude(status=Delivery.Status.DELIVERED)
        .update(status=Delivery.Status.PENDING, next_attempt_at=now, first_attempt_at=None)
    )


def _locked(endpoint_id: int) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointError(gettext("No endpoint has the id %(id)s.") % {"id": endpoint_id})
    return endpoint
