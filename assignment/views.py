"""The webhook: a thin HTTP face over ``assignment.ingestion``.

When several rules are broken the first in this order answers (docs/API.md):
405, 503 (secret), 413, 401, 415, 400, 409, 503 (database).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from assignment.ingestion import (
    MAX_BODY_BYTES,
    MessageConflict,
    PayloadError,
    StaffMessageRefused,
    ingest_message,
    parse_payload,
)
from assignment.signatures import SignatureError, WebhookSecret, verify_with_any

logger = logging.getLogger("chatassist.webhook")
RETRY_AFTER_SECONDS = "5"


def error_response(
    status: int, message: str, details: dict[str, Any] | None = None, **headers: str
) -> JsonResponse:
    response = JsonResponse({"error": message, "details": details or {}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@dataclass(frozen=True)
class WebhookAnswer:
    """The response, and what the log line says about the delivery."""

    response: JsonResponse
    message_id: str | None = None
    session_id: int | None = None
    outcome: str | None = None


@csrf_exempt
def messages_webhook(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    answer = _answer(request)
    status = answer.response.status_code
    duration_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "webhook status=%s message_id=%s session_id=%s outcome=%s duration_ms=%.1f",
        status,
        answer.message_id or "-",
        answer.session_id or "-",
        answer.outcome or "-",
        duration_ms,
        # The same values as fields of the JSON log line (chatassist/logging.py).
        extra={
            "status": status,
            "message_id": answer.message_id,
            "session_id": answer.session_id,
            "outcome": answer.outcome,
            "duration_ms": round(duration_ms, 1),
        },
    )
    return answer.response


def _answer(request: HttpRequest) -> WebhookAnswer:
    if request.method != "POST":
        return WebhookAnswer(error_response(405, "Only POST is allowed.", Allow="POST"))
    secret = WebhookSecret.parse(getattr(settings, "WEBHOOK_SECRET", None))
    if secret is None:
        return WebhookAnswer(
            error_response(503, "The webhook is not configured (WEBHOOK_SECRET).", Retry_After="60")
        )
    secrets = [secret]
    previous_text = getattr(settings, "WEBHOOK_PREVIOUS_SECRET", "")
    if previous_text:  # a rotation is under way: the previous secret is accepted too
        previous = WebhookSecret.parse(previous_text)
        if previous is None:
            return WebhookAnswer(
                error_response(
                    503,
                    "The webhook is not configured (WEBHOOK_PREVIOUS_SECRET is malformed).",
                    Retry_After="60",
                )
            )
        secrets.append(previous)
    if _declared_length(request) > MAX_BODY_BYTES:
        return WebhookAnswer(error_response(413, f"The body is over {MAX_BODY_BYTES} bytes."))
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return WebhookAnswer(error_response(413, f"The body is over {MAX_BODY_BYTES} bytes."))
    try:
        verify_with_any(secrets, body=body, headers=_signature_headers(request), now=time.time())
    except SignatureError as error:
        return WebhookAnswer(error_response(401, str(error)))
    if not _is_json(request.content_type):
        return WebhookAnswer(error_response(415, "The content type must be application/json."))
    try:
        incoming = parse_payload(body)
    except PayloadError as error:
        return WebhookAnswer(error_response(400, str(error), error.details))
    try:
        result = ingest_message(incoming=incoming)
    except MessageConflict as error:
        conflict = error_response(409, str(error), {"message_id": incoming.message_id})
        return WebhookAnswer(conflict, message_id=incoming.message_id, outcome="conflict")
    except StaffMessageRefused as error:
        refused = error_response(409, str(error), error.details)
        return WebhookAnswer(refused, message_id=incoming.message_id, outcome="refused")
    except DatabaseError:
        logger.exception("webhook database error message_id=%s", incoming.message_id)
        unavailable = error_response(
            503, "The database is unavailable; try again.", Retry_After=RETRY_AFTER_SECONDS
        )
        return WebhookAnswer(unavailable, message_id=incoming.message_id)
    return WebhookAnswer(
        JsonResponse(result.body, status=201 if result.created else 200),
        message_id=incoming.message_id,
        session_id=result.session_id,
        outcome=result.outcome,
    )


# application/json, or a JSON-based type with the +json suffix (RFC 6839), such as a
# vendor type ending "+json"; parameters (charset) are not part of request.content_type.
_JSON_MEDIA_TYPE = re.compile(r"application/(json|[a-z0-9][a-z0-9!#$&^_.+-]*\+json)")


def _is_json(content_type: str | None) -> bool:
    return _JSON_MEDIA_TYPE.fullmatch((content_type or "").lower()) is not None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _signature_headers(request: HttpRequest) -> dict[str, str | None]:
    return {
        name: request.headers.get(name)
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
