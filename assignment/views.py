"""The webhook: a thin HTTP face over ``assignment.ingestion``.

When several rules are broken the first in this order answers (CONTRACT.md):
405, 503 (secret), 413, 401, 415, 400, 409, 503 (database).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from assignment.ingestion import (
    MAX_BODY_BYTES,
    MessageConflict,
    PayloadError,
    ingest_message,
    parse_payload,
)
from assignment.signatures import SignatureError, WebhookSecret

logger = logging.getLogger("chatassist.webhook")
RETRY_AFTER_SECONDS = "5"


def error_response(
    status: int, message: str, details: dict[str, Any] | None = None, **headers: str
) -> JsonResponse:
    response = JsonResponse({"error": message, "details": details or {}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
def messages_webhook(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    response = _answer(request)
    logger.info(
        "webhook status=%s message_id=%s session_id=%s outcome=%s duration_ms=%.1f",
        response.status_code,
        getattr(response, "message_id", "-"),
        getattr(response, "session_id", "-"),
        getattr(response, "outcome", "-"),
        duration_ms := (time.perf_counter() - started) * 1000,
        # The same values as fields of the JSON log line (chatassist/logging.py).
        extra={
            "status": response.status_code,
            "message_id": getattr(response, "message_id", None),
            "session_id": getattr(response, "session_id", None),
            "outcome": getattr(response, "outcome", None),
            "duration_ms": round(duration_ms, 1),
        },
    )
    return response


def _answer(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return error_response(405, "Only POST is allowed.", Allow="POST")
    secret = WebhookSecret.parse(getattr(settings, "WEBHOOK_SECRET", None))
    if secret is None:
        return error_response(
            503, "The webhook is not configured (WEBHOOK_SECRET).", Retry_After="60"
        )
    if _declared_length(request) > MAX_BODY_BYTES:
        return error_response(413, f"The body is over {MAX_BODY_BYTES} bytes.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return error_response(413, f"The body is over {MAX_BODY_BYTES} bytes.")
    try:
        secret.verify(body=body, headers=_signature_headers(request), now=time.time())
    except SignatureError as error:
        return error_response(401, str(error))
    if not _is_json(request.content_type):
        return error_response(415, "The content type must be application/json.")
    try:
        incoming = parse_payload(body)
    except PayloadError as error:
        return error_response(400, str(error), error.details)
    try:
        result = ingest_message(incoming=incoming)
    except MessageConflict as error:
        return error_response(409, str(error), {"message_id": incoming.message_id})
    except DatabaseError:
        logger.exception("webhook database error message_id=%s", incoming.message_id)
        return error_response(
            503, "The database is unavailable; try again.", Retry_After=RETRY_AFTER_SECONDS
        )
    response = JsonResponse(result.body, status=201 if result.created else 200)
    response.message_id, response.session_id = incoming.message_id, result.session_id
    response.outcome = result.outcome
    return response


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


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
