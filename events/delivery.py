"""The delivery worker (``deliver_events``): fan events out, claim due deliveries, send them.

The outbox table is the queue (no task library): the event row is already written in the
change's transaction, so a task library's job would be a second write of the same fact, or
a second source of truth to keep in step with it. A delivery is claimed with an expiry
(``claimed_until``) in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers on several hosts never take the same one; SQLite serialises writers), sent
outside any transaction, and its outcome written only if the claim is still the worker's.
A worker killed mid-delivery leaves a claim that expires; another worker then sends the
delivery again, with the same ``webhook-id``: delivery is at least once.

Order: a delivery is due only when no earlier event of its session is still to be fanned
out or still pending for the same endpoint. Events of one session are written in the
order they happened, each under that session's row lock (or the assignment lock), so the
event ids of a session follow their commit order.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks import Webhook

from events import payloads, safety
from events.models import Delivery, Endpoint, Event

logger = logging.getLogger("chatassist.events")

ANSWER_LIMIT_SECONDS = 10.0  # the contract: no answer within 10 s is a failed attempt
CONNECT_TIMEOUT_SECONDS = 5.0
RESPONSE_READ_LIMIT = 4096  # bytes of an answer read at most
EXCERPT_LIMIT = 1000  # characters of it kept
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER_FAILING = timedelta(days=5)
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 6 * 3600.0
LONGEST_RETRY_AFTER_SECONDS = 24 * 3600.0
FAN_OUT_BATCH = 500
CLAIM_BATCH = 10


@dataclass(frozen=True)
class Attempt:
    """What one POST got: a status code, or an error in words (no answer)."""

    status_code: int | None
    error: str
    latency_ms: int | None
    excerpt: str
    retry_after_seconds: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Round:
    """One pass of the worker: events fanned out, deliveries sent and delivered."""

    fanned_out: int
    attempted: int
    delivered: int

    @property
    def worked(self) -> bool:
        return bool(self.fanned_out or self.attempted)


# --- Fan-out ---------------------------------------------------------------------------------


def fan_out(*, now: datetime, limit: int = FAN_OUT_BATCH) -> int:
    """Create the deliveries of events not yet fanned out, oldest first; returns how many
    events. Skips events another worker is fanning out (PostgreSQL)."""
    with transaction.atomic():
        events = list(
            Event.objects.filter(fanned_out=False)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .only("id", "type", "session_id", "endpoint_id")[:limit]
        )
        if not events:
            return 0
        endpoints = list(Endpoint.objects.filter(active=True).only("id", "event_types"))
        Delivery.objects.bulk_create(
            (
                Delivery(
                    event_id=event.pk,
                    endpoint_id=endpoint.pk,
                    session_id=event.session_id,
                    next_attempt_at=now,
                    created_at=now,
                )
                for event in events
                for endpoint in endpoints
                if _goes_to(event, endpoint)
            ),
            ignore_conflicts=True,
        )
        Event.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out=True)
    return len(events)


def _goes_to(event: Event, endpoint: Endpoint) -> bool:
    if event.endpoint_id is not None:  # a ping
        return event.endpoint_id == endpoint.pk
    return endpoint.receives(event.type)


# --- Claims ----------------------------------------------------------------------------------


def due_deliveries(*, now: datetime):
    """Pending deliveries due at ``now``, unclaimed, to active endpoints, first in order."""
    earlier_pending = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        session_id=OuterRef("session_id"),
        status=Delivery.Status.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    earlier_not_fanned_out = Event.objects.filter(
        session_id=OuterRef("session_id"), fanned_out=False, id__lt=OuterRef("event_id")
    )
    return (
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__active=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .exclude(Exists(earlier_pending))
        .exclude(Exists(earlier_not_fanned_out))
        .order_by("next_attempt_at", "id")
    )


def claim_due(*, now: datetime, limit: int = CLAIM_BATCH) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due deliveries for ``claim_seconds()``; returns the claim's
    token and the ids claimed."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(
            due_deliveries(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
            ).update(claimed_until=now + timedelta(seconds=claim_seconds()), claim_token=token)
    claimed = list(
        Delivery.objects.filter(pk__in=ids, claim_token=token).values_list("id", flat=True)
    )
    return token, claimed


def claim_seconds() -> float:
    return float(getattr(settings, "EVENTS_CLAIM_SECONDS", 120))


# --- Sending ---------------------------------------------------------------------------------


def new_client() -> httpx.Client:
    """The worker's HTTP client: no redirects followed, connect and read timeouts."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(ANSWER_LIMIT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        headers={"user-agent": "chatassist-events/1"},
        trust_env=False,
    )


def signing_secrets(endpoint: Endpoint, *, now: datetime) -> list[str]:
    """The current secret and, for 24 h after a rotation, the previous one."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def signed_headers(*, webhook_id: str, body: bytes, secrets: list[str], sent_at: datetime):
    text = body.decode("utf-8")
    signatures = " ".join(
        Webhook(secret).sign(msg_id=webhook_id, timestamp=sent_at, data=text) for secret in secrets
    )
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
    }


def post(client: httpx.Client, *, url: str, headers: dict[str, str], body: bytes) -> Attempt:
    """POST ``body`` to ``url`` (checked for SSRF first, connecting to the checked address)."""
    started = time.monotonic()
    try:
        target = safety.check_url(url)
    except safety.UnsafeURL as refused:
        return Attempt(None, f"refused: {refused}"[:300], None, "")
    request_url, extensions, headers = _pinned(target, headers)
    try:
        request = client.build_request(
            "POST", request_url, headers=headers, content=body, extensions=extensions
        )
        response = client.send(request, stream=True)
    except httpx.TimeoutException:
        return Attempt(None, "no answer within the time limit", _elapsed_ms(started), "")
    except httpx.HTTPError as error:
        return Attempt(None, f"connection failed: {error}"[:300], _elapsed_ms(started), "")
    try:
        excerpt = _read_capped(response, started=started)
    except (httpx.HTTPError, TimeoutError):
        excerpt = ""
    finally:
        response.close()
    return Attempt(
        response.status_code,
        "",
        _elapsed_ms(started),
        excerpt,
        retry_after_seconds=_retry_after(response),
    )


def _pinned(target: safety.Target, headers: dict[str, str]):
    """Connect to the checked address, still naming the host (Host header, TLS SNI)."""
    if target.address is None:
        return target.url, {}, headers
    parts = safety.parse(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    netloc = f"{address}:{target.port}"
    pinned_url = parts._replace(netloc=netloc).geturl()
    host_header = parts.netloc.rpartition("@")[2]
    return pinned_url, {"sni_hostname": target.host}, {**headers, "host": host_header}


def _read_capped(response: httpx.Response, *, started: float) -> str:
    read = bytearray()
    for chunk in response.iter_raw():
        read.extend(chunk)
        if len(read) >= RESPONSE_READ_LIMIT:
            break
        if time.monotonic() - started > ANSWER_LIMIT_SECONDS:
            raise TimeoutError
    return bytes(read[:RESPONSE_READ_LIMIT]).decode("utf-8", "replace")[:EXCERPT_LIMIT]


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` of a 429 or 503, in seconds (a number or an HTTP date)."""
    if response.status_code not in (429, 503):
        return None
    value = (response.headers.get("retry-after") or "").strip()
    if value.isdigit():
        return min(max(float(value), 1.0), LONGEST_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - timezone.now()).total_seconds(), 1.0), LONGEST_RETRY_AFTER_SECONDS)


# --- Outcomes --------------------------------------------------------------------------------


def retry_delay(attempts: int, *, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling from 5 s up to
    6 h, each with ±20 % jitter so that endpoints coming back are not hit all at once."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)
    return base * (0.8 + 0.4 * rng())


def next_attempt(
    *, delivery: Delivery, attempt: Attempt, now: datetime, attempts: int
) -> datetime | None:
    """When to try again after a failed attempt; None: give up (three days have passed).

    The last retry is at the three days' end (counted from the first attempt), so every
    delivery is tried for three days.
    """
    deadline = (delivery.first_attempt_at or now) + GIVE_UP_AFTER
    if now >= deadline:
        return None
    if attempt.retry_after_seconds is not None:
        return now + timedelta(seconds=attempt.retry_after_seconds)
    return min(now + timedelta(seconds=retry_delay(attempts)), deadline)


def record(*, delivery: Delivery, token: str, attempt: Attempt, now: datetime) -> None:
    """Write the attempt's outcome, if the claim is still this worker's."""
    attempts = delivery.attempts + 1
    fields: dict = {
        "attempts": attempts,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
        "last_latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.excerpt,
        "last_attempt_at": now,
        "first_attempt_at": delivery.first_attempt_at or now,
        "claimed_until": None,
        "claim_token": "",
    }
    endpoint = delivery.endpoint
    if attempt.delivered:
        fields.update(status=Delivery.Status.DELIVERED, delivered_at=now)
    elif attempt.status_code == 410:
        # Kept pending: re-activating the endpoint resumes its deliveries, in order.
        fields.update(next_attempt_at=now)
    else:
        retry_at = next_attempt(delivery=delivery, attempt=attempt, now=now, attempts=attempts)
        if retry_at is None:
            fields.update(status=Delivery.Status.FAILED)
        else:
            fields.update(next_attempt_at=retry_at)
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields)
        if updated:
            _endpoint_outcome(endpoint, attempt=attempt, now=now)


def _endpoint_outcome(endpoint: Endpoint, *, attempt: Attempt, now: datetime) -> None:
    endpoints = Endpoint.objects.filter(pk=endpoint.pk)
    if attempt.delivered:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    elif attempt.status_code == 410:
        endpoints.update(
            active=False,
            disabled_reason=f"Disabled on {payloads.utc_timestamp(now)}: it answered 410 Gone.",
        )
    else:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        endpoints.filter(active=True, failing_since__lte=now - DISABLE_AFTER_FAILING).update(
            active=False,
            disabled_reason=(
                f"Disabled on {payloads.utc_timestamp(now)}: every delivery failed for 5 days."
            ),
        )


# --- One round -------------------------------------------------------------------------------


def deliver_claimed(
    client: httpx.Client, *, token: str, delivery_ids: list[int], clock=timezone.now
) -> tuple[int, int]:
    """Send each claimed delivery; returns (attempted, delivered)."""
    deliveries = Delivery.objects.filter(pk__in=delivery_ids).select_related(
        "event", "event__session", "endpoint"
    )
    attempted = delivered = 0
    gone: set[int] = set()  # endpoints that answered 410 in this batch
    for delivery in sorted(deliveries, key=lambda each: each.pk):
        now = clock()
        if delivery.claimed_until is None or delivery.claimed_until <= now:
            continue  # the claim ran out while earlier ones were sent: another worker's now
        if delivery.endpoint_id in gone:
            release(delivery_id=delivery.pk, token=token)
            continue
        attempt = send(client, delivery=delivery, now=now)
        record(delivery=delivery, token=token, attempt=attempt, now=clock())
        attempted += 1
        delivered += attempt.delivered
        if attempt.status_code == 410:
            gone.add(delivery.endpoint_id)
        _log(delivery, attempt)
    return attempted, delivered


def release(*, delivery_id: int, token: str) -> None:
    """Give a claimed delivery back unsent."""
    Delivery.objects.filter(pk=delivery_id, claim_token=token).update(
        claimed_until=None, claim_token=""
    )


def send(client: httpx.Client, *, delivery: Delivery, now: datetime) -> Attempt:
    event = delivery.event
    session = event.session
    body = payloads.encode(
        payloads.event_body(
            event,
            channel=session.channel if session is not None else None,
            customer_id=session.customer_id if session is not None else None,
        )
    )
    headers = signed_headers(
        webhook_id=event.webhook_id,
        body=body,
        secrets=signing_secrets(delivery.endpoint, now=now),
        sent_at=now,
    )
    return post(client, url=delivery.endpoint.url, headers=headers, body=body)


def run_round(client: httpx.Client, *, clock=timezone.now) -> Round:
    """Fan out what is new, then claim and send one batch of due deliveries."""
    fanned_out = fan_out(now=clock())
    token, ids = claim_due(now=clock())
    attempted, delivered = deliver_claimed(client, token=token, delivery_ids=ids, clock=clock)
    return Round(fanned_out, attempted, delivered)


def deliver_all_due(client: httpx.Client | None = None, *, clock=timezone.now) -> Round:
    """Rounds until nothing is due now (``deliver_events`` without ``--loop``)."""
    own_client = client is None
    client = client or new_client()
    total = Round(0, 0, 0)
    try:
        while True:
            done = run_round(client, clock=clock)
            total = Round(
                total.fanned_out + done.fanned_out,
                total.attempted + done.attempted,
                total.delivered + done.delivered,
            )
            if not done.worked:
                return total
    finally:
        if own_client:
            client.close()


def _log(delivery: Delivery, attempt: Attempt) -> None:
    # Never the secrets or the headers: the id, the endpoint's id and the outcome.
    logger.info(
        "event delivery webhook_id=%s endpoint=%s status=%s error=%s",
        delivery.event.webhook_id,
        delivery.endpoint_id,
        attempt.status_code,
        attempt.error,
        extra={
            "webhook_id": delivery.event.webhook_id,
            "endpoint_id": delivery.endpoint_id,
            "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms,
        },
    )
