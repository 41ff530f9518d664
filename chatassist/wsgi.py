"""The WSGI application gunicorn serves (``chatassist.wsgi:application``).

Django's own handler, behind a small WSGI middleware (``RequestInputGuard``) that makes two
kinds of request input safe before Django builds its request object from them, since
Django would otherwise fail on them before any of our middleware or views run:

- A ``Content-Type`` header that cannot be parsed (an RFC 2231 parameter naming an unknown
  charset: ``text/plain; charset*=nope''x``) makes Django's request constructor raise, an
  answer 500 on every URL. The guard replaces such a header by ``UNPARSABLE_CONTENT_TYPE``
  (the original stays in ``environ["chatassist.original_content_type"]``): a media type
  nothing accepts, so the webhook answers 415 in the contract's order of rules and forms
  find no form data (docs/API.md).
- A chunked body (``Transfer-Encoding: chunked``, no ``Content-Length``) would be read by
  Django as empty. When the server says the input ends by itself (gunicorn sets
  ``wsgi.input_terminated``), the guard reads it, at most ``CHUNKED_BODY_LIMIT`` bytes,
  and hands Django the bytes with their length: a signed small message is stored, and one
  over 64 KiB gets the 413 it would get with a ``Content-Length``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatassist.settings")

UNPARSABLE_CONTENT_TYPE = "application/x-unparsable-content-type"
# One byte more than the webhook takes (64 KiB, assignment.ingestion.MAX_BODY_BYTES: not
# imported, as models cannot load before the handler), so an over-long chunked body is
# still seen as one (413); no page of the app takes a bigger body (forms are a few KiB).
CHUNKED_BODY_LIMIT = 64 * 1024 + 1

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def content_type_is_parsable(value: str) -> bool:
    """Whether Django can parse this Content-Type header (an RFC 2231 parameter with an
    unknown charset, or broken percent escapes in one, cannot)."""
    try:
        parse_header_parameters(value)
    except (ValueError, LookupError, UnicodeError):
        return False
    return True


def guarded_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ with an unparsable Content-Type replaced and a terminated chunked body
    read (at most ``CHUNKED_BODY_LIMIT`` bytes) and given its length."""
    content_type = environ.get("CONTENT_TYPE")
    if content_type and not content_type_is_parsable(content_type):
        environ["chatassist.original_content_type"] = content_type
        environ["CONTENT_TYPE"] = UNPARSABLE_CONTENT_TYPE
    if not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
        body = environ["wsgi.input"].read(CHUNKED_BODY_LIMIT)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class RequestInputGuard:
    """WSGI middleware: ``guarded_environ`` before the wrapped application sees a request."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.app(guarded_environ(environ), start_response)


application = RequestInputGuard(get_wsgi_application())
