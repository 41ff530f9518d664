"""The production settings, with the environment a test run needs filled in.

``chatassist.settings`` refuses to start without a SECRET_KEY when DEBUG is off, as
production must; the suite supplies throwaway values here instead of weakening that rule.
Anything already set in the environment (DATABASE_URL for PostgreSQL, say) wins.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from chatassist.settings import *  # noqa: F403

# No collectstatic in a test run: serve static files by name rather than from the manifest.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Hashing passwords at production strength only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
