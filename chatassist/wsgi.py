"""The WSGI application gunicorn serves (``chatassist.wsgi:application``).

The webhook is served by the same Django project with a shorter middleware stack. It is a
machine endpoint called hundreds of times a second: it has no session, no login, no CSRF
token (it is signed instead), no messages and nothing to frame, so the middleware for those
only cost time (about 0.2-0.4 ms of CPU per delivery, docs/BENCHMARKS.md). It keeps
``SecurityMiddleware`` (HTTPS redirect, HSTS and the other security headers) and
``CommonMiddleware`` (``Content-Length``, without which gunicorn cannot keep a connection
alive without chunking). Every other URL goes through the full ``MIDDLEWARE`` of the
settings.
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatassist.settings")

WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with ``WEBHOOK_MIDDLEWARE`` instead of the settings' list.

    Only middleware without view, template-response or exception hooks belong here (as
    these two): those hooks are not collected.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for middleware_path in reversed(WEBHOOK_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(middleware_path)(handler))
        self._middleware_chain = handler


class Application:
    """Sends the webhook's path to ``WebhookHandler``, everything else to Django's own."""

    def __init__(self) -> None:
        self.django = get_wsgi_application()  # sets Django up
        self.webhook = WebhookHandler()
        self.webhook_path = reverse("assignment:messages-webhook")

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == self.webhook_path:
            return self.webhook(environ, start_response)
        return self.django(environ, start_response)


application = Application()
