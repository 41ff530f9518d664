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

Speed: a round claims a batch (``CLAIMS_PER_SENDER`` per sending thread), sends it from
``EVENTS_DELIVERY_CONCURRENCY`` threads over kept-alive connections, and writes the
outcomes together (one ``executemany``), so the database work per batch is a dozen
statements whatever its size. A batch holds at most one delivery per session and endpoint,
so sending side by side keeps the order above (``bench/events.py`` measures it).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.db import connection, transaction
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
ATTEMPT_LIMIT_SECONDS = CONNECT_TIMEOUT_SECONDS + ANSWER_LIMIT_SECONDS  # one attempt at most
FAN_OUT_BATCH = 500
# A round claims this many deliveries per sending thread: enough to keep the threads busy,
# few enough that even a batch of timeouts ends well inside the claim.
CLAIMS_PER_SENDER = 4
# Outcomes are written together, every RECORD_BATCH of them or RECORD_WITHIN_SECONDS after
# the first one unwritten, whichever comes first.
RECORD_BATCH = 50
RECORD_WITHIN_SECONDS = 1.0
KEPT_CLIENTS = 256  # HTTP clients (one per endpoint origin) kept between rounds


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
    """One pass of the worker (or the sum of several): events fanned out, deliveries
    claimed, sent and delivered."""

    fanned_out: int
    attempted: int
    delivered: int
    claimed: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.fanned_out or self.claimed or self.attempted)

    def __add__(self, other: Round) -> Round:
        return Round(
            self.fanned_out + other.fanned_out,
            self.attempted + other.attempted,
            self.delivered + other.delivered,
            self.claimed + other.claimed,
        )


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


def claim_due(*, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due deliveries for ``claim_seconds()``; returns the claim's
    token and the ids claimed (each row is locked, or SQLite's writer lock held, from the
    choice to the claim, so every id chosen is claimed)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(
            due_deliveries(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                claimed_until=now + timedelta(seconds=claim_seconds()), claim_token=token
            )
    return token, ids


def claim_seconds() -> float:
    return float(getattr(settings, "EVENTS_CLAIM_SECONDS", 120))


# --- Sending ---------------------------------------------------------------------------------


def new_client() -> httpx.Client:
    """An HTTP client of the worker: no redirects followed, connect and read timeouts, and
    kept-alive connections."""
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


def post(dispatcher: Dispatcher, *, url: str, headers: dict[str, str], body: bytes) -> Attempt:
    """POST ``body`` to ``url`` (checked for SSRF first, connecting to the checked address)."""
    started = time.monotonic()
    try:
        target = safety.check_url(url)
    except safety.UnsafeURL as refused:
        return Attempt(None, f"refused: {refused}"[:300], None, "")
    client = dispatcher.client_for(target)
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


# --- Recording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed delivery: its attempt, or None when it was not sent (its
    endpoint answered 410 meanwhile, or too little of the claim was left)."""

    delivery: Delivery
    attempt: Attempt | None
    at: datetime


RECORDED_FIELDS = [
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "claim_token",
    "last_status_code",
    "last_error",
    "last_latency_ms",
    "response_excerpt",
    "first_attempt_at",
    "last_attempt_at",
    "delivered_at",
]


def recorded(delivery: Delivery, attempt: Attempt, *, now: datetime) -> Delivery:
    """The delivery's row after ``attempt`` (a new instance, for ``_write``)."""
    attempts = delivery.attempts + 1
    status = Delivery.Status.PENDING
    next_attempt_at = delivery.next_attempt_at
    if attempt.delivered:
        status = Delivery.Status.DELIVERED
    elif attempt.status_code == 410:
        # Kept pending: re-activating the endpoint resumes its deliveries, in order.
        next_attempt_at = now
    else:
        retry_at = next_attempt(delivery=delivery, attempt=attempt, now=now, attempts=attempts)
        if retry_at is None:
            status = Delivery.Status.FAILED
        else:
            next_attempt_at = retry_at
    return Delivery(
        pk=delivery.pk,
        status=status,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        claim_token="",
        last_status_code=attempt.status_code,
        last_error=attempt.error,
        last_latency_ms=attempt.latency_ms,
        response_excerpt=attempt.excerpt,
        first_attempt_at=delivery.first_attempt_at or now,
        last_attempt_at=now,
        delivered_at=now if attempt.delivered else delivery.delivered_at,
    )


def record(*, token: str, outcomes: list[Outcome]) -> int:
    """Write the outcomes of the deliveries still claimed with ``token``, in one transaction
    (a few statements for the whole batch); returns how many attempts were written. An
    outcome whose claim ran out is dropped: another worker owns that delivery now."""
    if not outcomes:
        return 0
    with transaction.atomic():
        still_ours = set(
            Delivery.objects.filter(pk__in=[each.delivery.pk for each in outcomes])
            .filter(claim_token=token)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        ours = [each for each in outcomes if each.delivery.pk in still_ours]
        sent = [(each, each.attempt) for each in ours if each.attempt is not None]
        unsent = [each.delivery.pk for each in ours if each.attempt is None]
        if unsent:
            Delivery.objects.filter(pk__in=unsent, claim_token=token).update(
                claimed_until=None, claim_token=""
            )
        if sent:
            _write(
                [recorded(each.delivery, attempt, now=each.at) for each, attempt in sent],
                token=token,
            )
            for endpoint_id, attempts in _by_endpoint(sent).items():
                _endpoint_outcome(endpoint_id, attempts=attempts)
    return len(sent)


def _write(rows: list[Delivery], *, token: str) -> None:
    """UPDATE each row's ``RECORDED_FIELDS`` where it still has ``token``, as one
    ``executemany`` (pipelined by psycopg). The ORM's ``bulk_update`` builds a CASE per field
    and row, whose compiling cost more CPU than sending the batch."""
    by_name = {field.name: field for field in Delivery._meta.concrete_fields}
    fields = [by_name[name] for name in RECORDED_FIELDS]
    quote = connection.ops.quote_name
    columns = {
        name: quote(field.get_attname_column()[1] or name) for name, field in by_name.items()
    }
    assignments = ", ".join(f"{columns[name]} = %s" for name in RECORDED_FIELDS)
    pk_column, token_column = columns["id"], columns["claim_token"]
    statement = (
        f"UPDATE {quote(Delivery._meta.db_table)} SET {assignments} "
        f"WHERE {pk_column} = %s AND {token_column} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            statement,
            [
                [
                    field.get_db_prep_save(getattr(row, field.attname), connection)
                    for field in fields
                ]
                + [row.pk, token]
                for row in rows
            ],
        )


def _by_endpoint(
    sent: list[tuple[Outcome, Attempt]],
) -> dict[int, list[tuple[Attempt, datetime]]]:
    """Each endpoint's attempts with their ends, in the order they ended."""
    grouped: dict[int, list[tuple[Attempt, datetime]]] = {}
    for each, attempt in sorted(sent, key=lambda pair: pair[0].at):
        grouped.setdefault(each.delivery.endpoint_id, []).append((attempt, each.at))
    return grouped


def _endpoint_outcome(endpoint_id: int, *, attempts: list[tuple[Attempt, datetime]]) -> None:
    """An endpoint's health after a batch's attempts to it, in the order they ended: a 2xx
    resets its failing clock, a failure starts it (unless running), 410 disables it, and a
    clock running for 5 days disables it."""
    endpoints = Endpoint.objects.filter(pk=endpoint_id)
    delivered_since = False  # a 2xx in this batch: the failing clock restarts after it
    failing_from: datetime | None = None  # the first failure after the last 2xx
    gone_at: datetime | None = None
    for attempt, at in attempts:
        if attempt.delivered:
            delivered_since, failing_from = True, None
        elif attempt.status_code == 410:
            gone_at = gone_at or at
        elif failing_from is None:
            failing_from = at
    if delivered_since and failing_from is None:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    elif delivered_since:
        endpoints.update(failing_since=failing_from)
    elif failing_from is not None:
        endpoints.filter(failing_since__isnull=True).update(failing_since=failing_from)
    if gone_at is not None:
        endpoints.update(
            active=False,
            disabled_reason=f"Disabled on {payloads.utc_timestamp(gone_at)}: it answered 410 Gone.",
        )
    elif failing_from is not None:
        last = attempts[-1][1]
        endpoints.filter(active=True, failing_since__lte=last - DISABLE_AFTER_FAILING).update(
            active=False,
            disabled_reason=(
                f"Disabled on {payloads.utc_timestamp(last)}: every delivery failed for 5 days."
            ),
        )


# --- One round -------------------------------------------------------------------------------


class Dispatcher:
    """What a worker keeps from round to round: its sending threads and its HTTP clients.

    Deliveries of one batch are sent ``senders`` at a time: a batch holds at most one
    delivery per session and endpoint (a later one is not due while an earlier one is
    pending), so sending them side by side keeps every session's order. There is one client
    per endpoint origin (scheme, host, port), so a kept-alive connection, which goes to the
    address checked for SSRF, is reused only for the host it was opened (and its TLS
    certificate checked) for: two hosts behind one address never share one.
    """

    def __init__(self, *, senders: int | None = None) -> None:
        self.senders = senders or default_senders()
        self._pool = ThreadPoolExecutor(max_workers=self.senders, thread_name_prefix="deliver")
        self._clients: OrderedDict[tuple[str, str, int], httpx.Client] = OrderedDict()
        self._lock = threading.Lock()

    def client_for(self, target: safety.Target) -> httpx.Client:
        key = (safety.parse(target.url).scheme, target.host, target.port)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = new_client()
            self._clients.move_to_end(key)
            return client

    def submit(self, function: Callable[..., Outcome], *args) -> Future[Outcome]:
        return self._pool.submit(function, *args)

    def trim(self) -> None:
        """Close the least recently used clients beyond ``KEPT_CLIENTS`` (between rounds,
        when none is in use)."""
        with self._lock:
            while len(self._clients) > KEPT_CLIENTS:
                _key, client = self._clients.popitem(last=False)
                client.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def default_senders() -> int:
    return int(getattr(settings, "EVENTS_DELIVERY_CONCURRENCY", 8))


def claimed(*, token: str, delivery_ids: list[int]) -> list[Delivery]:
    """The deliveries claimed with ``token``, with what sending them needs, in id order."""
    return list(
        Delivery.objects.filter(pk__in=delivery_ids, claim_token=token)
        .select_related("event", "event__session", "endpoint")
        .order_by("pk")
    )


def deliver_claimed(
    dispatcher: Dispatcher, *, token: str, deliveries: list[Delivery], clock=timezone.now
) -> tuple[int, int]:
    """Send the claimed deliveries, recording outcomes as they come; returns (attempted,
    delivered).

    The first delivery to each endpoint goes alone; the others to it follow once it has an
    answer, unless that answer was 410 (then they are given back unsent, and the endpoint
    is disabled). So an endpoint that is gone gets one request, not a burst.
    """
    waiting: dict[int, deque[Delivery]] = {}
    for each in deliveries:
        waiting.setdefault(each.endpoint_id, deque()).append(each)
    gone: set[int] = set()
    running: dict[Future[Outcome], Delivery] = {}
    unrecorded: list[Outcome] = []
    oldest_unrecorded = 0.0
    attempted = delivered = 0

    def start(each: Delivery) -> None:
        running[dispatcher.submit(_attempt, dispatcher, each, clock, gone)] = each

    for queue in waiting.values():
        start(queue.popleft())
    try:
        while running:
            finished, _ = wait(running, timeout=RECORD_WITHIN_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                each = running.pop(future)
                outcome = future.result()
                if not unrecorded:
                    oldest_unrecorded = time.monotonic()
                unrecorded.append(outcome)
                if outcome.attempt is not None:
                    attempted += 1
                    delivered += outcome.attempt.delivered
                    _log(each, outcome.attempt)
                    if outcome.attempt.status_code == 410:
                        gone.add(each.endpoint_id)
                queue = waiting[each.endpoint_id]
                while queue:
                    follower = queue.popleft()
                    if each.endpoint_id in gone:
                        unrecorded.append(Outcome(follower, None, clock()))
                    else:
                        start(follower)
            if unrecorded and (
                not running
                or len(unrecorded) >= RECORD_BATCH
                or time.monotonic() - oldest_unrecorded >= RECORD_WITHIN_SECONDS
            ):
                record(token=token, outcomes=unrecorded)
                unrecorded = []
    finally:
        # On an unexpected error, what was sent is still written (not sent twice).
        if unrecorded:
            record(token=token, outcomes=unrecorded)
    return attempted, delivered


def _attempt(dispatcher: Dispatcher, delivery: Delivery, clock, gone: set[int]) -> Outcome:
    """One delivery, in a sending thread (no database access: all is loaded)."""
    now = clock()
    if delivery.endpoint_id in gone or not _claim_lasts(delivery, now=now):
        return Outcome(delivery, None, now)
    attempt = send(dispatcher, delivery=delivery, now=now)
    return Outcome(delivery, attempt, clock())


def _claim_lasts(delivery: Delivery, *, now: datetime) -> bool:
    """Whether the claim outlasts the longest attempt (or half the claim, if shorter), so
    the outcome is written before another worker may take the delivery."""
    if delivery.claimed_until is None:
        return False
    margin = min(ATTEMPT_LIMIT_SECONDS, claim_seconds() / 2)
    return delivery.claimed_until - now > timedelta(seconds=margin)


def send(dispatcher: Dispatcher, *, delivery: Delivery, now: datetime) -> Attempt:
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
    return post(dispatcher, url=delivery.endpoint.url, headers=headers, body=body)


def run_round(dispatcher: Dispatcher, *, clock=timezone.now) -> Round:
    """Fan out what is new, then claim and send one batch of due deliveries."""
    fanned_out = fan_out(now=clock())
    dispatcher.trim()
    token, ids = claim_due(now=clock(), limit=dispatcher.senders * CLAIMS_PER_SENDER)
    deliveries = claimed(token=token, delivery_ids=ids)
    attempted, delivered = deliver_claimed(
        dispatcher, token=token, deliveries=deliveries, clock=clock
    )
    return Round(fanned_out, attempted, delivered, claimed=len(deliveries))


def deliver_all_due(
    dispatcher: Dispatcher | None = None, *, clock=timezone.now, senders: int | None = None
) -> Round:
    """Rounds until nothing is due now (``deliver_events`` without ``--loop``)."""
    own_dispatcher = dispatcher is None
    dispatcher = dispatcher or Dispatcher(senders=senders)
    total = Round(0, 0, 0)
    try:
        while True:
            done = run_round(dispatcher, clock=clock)
            total += done
            if not done.worked:
                return total
    finally:
        if own_dispatcher:
            dispatcher.close()


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
