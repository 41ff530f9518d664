"""Hostile requests over real HTTP: gunicorn with gunicorn.conf.py and the production
environment of .env.example, each request written byte for byte on a socket.

Each case here answered 500 (or was misread) before chatassist/wsgi.py's RequestInputGuard
and gunicorn.conf.py's ``forwarder_headers``: an unparsable Content-Type on any URL, a
``SCRIPT_NAME`` header, a chunked body. The same requests also go through the WSGI
application in-process (tests/chatassist/test_wsgi.py's ``call``), as gunicorn calls it.
"""

from __future__ import annotations

import json
import time

import pytest

from assignment.signatures import WebhookSecret
from tests.gunicorn_server import (
    Answer,
    manage,
    production_env,
    raw_request,
    request_bytes,
    serve,
)

# Each names an unknown charset in an RFC 2231 parameter, or breaks its percent escapes.
UNPARSABLE_CONTENT_TYPES = [
    "text/plain; charset*=nope''x",
    "application/json; charset*=x-unknown''utf-8",
    "Application/JSON; a*0=%FF; a*1*=us-ascii'en'%41",
]
HTTPS = {"X-Forwarded-Proto": "https"}  # as the proxy in front says (USE_X_FORWARDED_PROTO)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile-http")
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    for command in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        done = manage(*command, env=env)
        assert done.returncode == 0, done.stderr
    with serve(env, tmp_path / "gunicorn.log") as running:
        yield running, WebhookSecret.parse(env["WEBHOOK_SECRET"])


def signed(secret: WebhookSecret, body: bytes, *, msg_id: str = "evt-1") -> dict[str, str]:
    timestamp = int(time.time())
    return {
        **HTTPS,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": secret.sign(msg_id=msg_id, timestamp=timestamp, body=body),
    }


def send(server, method: str, path: str, **kwargs) -> Answer:
    running, _ = server
    return raw_request(running.port, request_bytes(method, path, **kwargs))


def message(message_id: str, size: int = 0) -> bytes:
    return json.dumps({"message_id": message_id, "customer_id": "c-1", "text": "x" * size}).encode()


# --- An unparsable Content-Type ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", UNPARSABLE_CONTENT_TYPES)
def test_an_unparsable_content_type_is_no_500_on_healthz_or_the_admin(server, content_type):
    healthz = send(server, "GET", "/healthz", headers={"Content-Type": content_type})
    login_page = send(
        server, "GET", "/admin/login/", headers={**HTTPS, "Content-Type": content_type}
    )
    login_post = send(
        server,
        "POST",
        "/admin/login/",
        headers={**HTTPS, "Content-Type": content_type},
        body=b"username=a&password=b",
    )

    assert healthz.status == 200 and healthz.json()["status"] == "ok"
    assert login_page.status == 200
    assert login_post.status == 403  # no form data can be read from it: CSRF refuses it


@pytest.mark.parametrize("content_type", UNPARSABLE_CONTENT_TYPES)
def test_an_unparsable_content_type_on_the_webhook_answers_in_the_contracts_order(
    server, content_type
):
    _, secret = server
    body = message("m-unparsable")

    unsigned = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**HTTPS, "Content-Type": content_type},
        body=body,
    )
    signed_answer = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**signed(secret, body), "Content-Type": content_type},
        body=body,
    )
    wrong_method = send(
        server, "GET", "/webhooks/messages/", headers={**HTTPS, "Content-Type": content_type}
    )

    assert unsigned.status == 401 and "error" in unsigned.json()
    assert signed_answer.status == 415
    assert signed_answer.json()["error"] == "The content type must be application/json."
    assert wrong_method.status == 405


# --- A SCRIPT_NAME header ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/admin/login/"])
def test_a_script_name_header_is_dropped_not_trusted(server, path):
    answer = send(server, "GET", path, headers={**HTTPS, "SCRIPT_NAME": "/elsewhere"})

    assert answer.status == 200


def test_a_script_name_header_does_not_move_the_webhook(server):
    _, secret = server
    body = message("m-script-name")

    answer = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={
            **signed(secret, body),
            "Content-Type": "application/json",
            "SCRIPT_NAME": "/webhooks",
        },
        body=body,
    )

    assert answer.status == 201, answer.body


# --- Chunked bodies ------------------------------------------------------------------------------


def test_a_signed_chunked_message_is_stored(server):
    _, secret = server
    body = message("m-chunked", size=10_000)  # several 4 KiB chunks

    answer = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**signed(secret, body), "Content-Type": "application/json"},
        body=body,
        chunked=True,
    )
    repeat = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**signed(secret, body), "Content-Type": "application/json"},
        body=body,
        chunked=True,
    )

    assert answer.status == 201, answer.body
    assert answer.json()["message_id"] == "m-chunked"
    assert (repeat.status, repeat.json()) == (200, answer.json())  # the same body was read


def test_a_chunked_body_over_64_kib_answers_413(server):
    _, secret = server
    body = b'{"message_id": "m-big", "customer_id": "c-1", "text": "' + b"x" * 70_000 + b'"}'

    answer = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**signed(secret, body), "Content-Type": "application/json"},
        body=body,
        chunked=True,
    )

    assert answer.status == 413
    assert answer.json()["error"] == "The body is over 65536 bytes."


def test_an_unsigned_chunked_message_answers_401(server):
    body = message("m-chunked-unsigned")

    answer = send(
        server,
        "POST",
        "/webhooks/messages/",
        headers={**HTTPS, "Content-Type": "application/json"},
        body=body,
        chunked=True,
    )

    assert answer.status == 401


# --- The webhook's path without its trailing slash -----------------------------------------------


def test_the_webhook_path_without_the_slash_is_the_webhook(server):
    _, secret = server
    body = message("m-no-slash")

    answer = send(
        server,
        "POST",
        "/webhooks/messages",
        headers={**signed(secret, body), "Content-Type": "application/json"},
        body=body,
    )

    assert answer.status == 201, answer.body
    assert answer.json()["message_id"] == "m-no-slash"


def test_the_server_log_has_no_error_after_the_hostile_requests(server):
    running, _ = server
    # Runs last in this module: nothing above made gunicorn or Django log an error.
    lines = [json.loads(line) for line in running.log().splitlines() if line.startswith("{")]

    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
