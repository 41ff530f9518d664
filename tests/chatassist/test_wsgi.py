"""The WSGI application: Django's own, with the settings' middleware for every URL.

Called as gunicorn calls it (``chatassist.wsgi.application`` with a WSGI environ), not
through the test client, which has its own handler.
"""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from assignment.models import ChatSession
from chatassist.wsgi import application
from tests.conftest import WEBHOOK_URL, sign_headers

pytestmark = pytest.mark.django_db(transaction=True)  # the handler opens and closes connections


def call(path: str, *, method: str = "GET", body: bytes = b"", app=application, **headers: str):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **headers,
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = int(status[:3]), dict(response_headers)

    content = b"".join(app(environ, start_response))
    return started["status"], started["headers"], content


def signed_delivery(payload: dict) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    return body, sign_headers(body)


def test_the_webhook_is_answered_through_the_wsgi_application(auto_assign_on):
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    status, response_headers, content = call(WEBHOOK_URL, method="POST", body=body, **headers)

    assert status == 201
    assert json.loads(content)["session"]["assigned_to"]["name"] == "Alice"
    assert ChatSession.objects.get().assigned_staff.name == "Alice"
    # SecurityMiddleware answers for it.
    assert response_headers["X-Content-Type-Options"] == "nosniff"
    assert response_headers["Referrer-Policy"] == "same-origin"
    assert "Set-Cookie" not in response_headers
    # CommonMiddleware too: with a length, gunicorn keeps the connection alive unchunked.
    assert response_headers["Content-Length"] == str(len(content))


@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_webhook_still_redirects_plain_http_when_https_is_required(auto_assign_on):
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    # Middleware read their settings when the application is built, as gunicorn builds it.
    status, response_headers, _ = call(
        WEBHOOK_URL, method="POST", body=body, app=get_wsgi_application(), **headers
    )

    assert status == 301
    assert response_headers["Location"] == f"https://testserver{WEBHOOK_URL}"
    assert not ChatSession.objects.exists()


def test_an_unexpected_error_in_the_webhook_is_a_plain_500_not_a_crash(auto_assign_on):
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    with mock.patch("assignment.views.ingest_message", side_effect=RuntimeError("boom")):
        status, _, _ = call(WEBHOOK_URL, method="POST", body=body, **headers)

    assert status == 500


def test_other_urls_go_through_the_same_stack():
    status, response_headers, _ = call("/admin/")

    assert status == 302  # AuthenticationMiddleware and the admin: to the login page
    assert response_headers["Location"].startswith("/admin/login/")
    assert response_headers["X-Frame-Options"] == "DENY"  # clickjacking middleware


def test_the_path_without_its_slash_is_the_webhook_too(auto_assign_on):
    """It used to meet APPEND_SLASH: a redirect that loses the POST body, and with DEBUG on
    a RuntimeError (500)."""
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    wrong_method = call(WEBHOOK_URL.rstrip("/"), method="GET")
    with override_settings(DEBUG=True):
        status, _, content = call(
            WEBHOOK_URL.rstrip("/"), method="POST", body=body, app=application, **headers
        )

    assert wrong_method[0] == 405
    assert status == 201, content
    assert json.loads(content)["message_id"] == "m-1"


# --- Input Django cannot build a request from (chatassist/wsgi.py's RequestInputGuard) ------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain; charset*=nope''x", "Application/JSON; a*0=%FF; a*1*=us-ascii'en'%41"],
)
def test_an_unparsable_content_type_is_answered_not_a_500(auto_assign_on, content_type):
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    healthz = call("/healthz", CONTENT_TYPE=content_type)
    webhook = call(
        WEBHOOK_URL, method="POST", body=body, **{**headers, "CONTENT_TYPE": content_type}
    )

    assert healthz[0] == 200
    assert webhook[0] == 415  # signed, so the content type is the first broken rule
    assert not ChatSession.objects.exists()
    with pytest.raises(ValueError, match="RFC 2231"):  # what the guard is for: Django alone
        call("/healthz", CONTENT_TYPE=content_type, app=get_wsgi_application())


def test_a_terminated_chunked_body_is_read_and_given_its_length(auto_assign_on):
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    status, _, content = call(
        WEBHOOK_URL,
        method="POST",
        body=body,
        **{**headers, "CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )

    assert status == 201, content
    assert ChatSession.objects.count() == 1


def test_a_body_without_length_from_a_server_that_does_not_terminate_input_stays_unread():
    """Without wsgi.input_terminated, reading to the end could wait for ever: the body is
    left to Django, which reads none of it (the webhook then finds no valid signature)."""
    body, headers = signed_delivery({"message_id": "m-1", "customer_id": "c-1"})

    status, _, _ = call(WEBHOOK_URL, method="POST", body=body, **{**headers, "CONTENT_LENGTH": ""})

    assert status == 401
    assert not ChatSession.objects.exists()
