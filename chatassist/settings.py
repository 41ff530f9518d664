"""Settings for Chat Assist, read from the environment (and an optional ``.env`` file).

Every value has one home here; production and development differ only by environment.
See ``.env.example`` for the full list.
"""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if SECRET_KEY.startswith("replace-me") and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is still the placeholder from .env.example.")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Standard Webhooks secret ("whsec_" + base64). Read on each request by the webhook, so a
# missing or malformed value answers 503 rather than stopping the whole app.
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
# During a rotation of the secret: the previous one, still accepted beside WEBHOOK_SECRET
# until every sender signs with the new one; then unset it. Empty: no rotation under way.
WEBHOOK_PREVIOUS_SECRET = env.str("WEBHOOK_PREVIOUS_SECRET", default="")

# Outbound events (the events app): while false, endpoints must be https:// URLs whose host
# resolves to public addresses only (checked on creation and before each delivery); true
# allows http:// and private addresses, for development and tests.
EVENTS_ALLOW_PRIVATE_URLS = env.bool("EVENTS_ALLOW_PRIVATE_URLS", default=False)
# How long a worker's claim on a delivery lasts; after it another worker may send it again.
EVENTS_CLAIM_SECONDS = env.int("EVENTS_CLAIM_SECONDS", default=180)
if not 5 <= EVENTS_CLAIM_SECONDS <= 3600:
    raise ImproperlyConfigured("EVENTS_CLAIM_SECONDS must be between 5 and 3600.")
# How many deliveries one worker sends at a time (threads; `deliver_events --concurrency`).
EVENTS_DELIVERY_CONCURRENCY = env.int("EVENTS_DELIVERY_CONCURRENCY", default=8)
if not 1 <= EVENTS_DELIVERY_CONCURRENCY <= 64:
    raise ImproperlyConfigured("EVENTS_DELIVERY_CONCURRENCY must be between 1 and 64.")

# The store's own zone: admin pages and reports show times in it. Each working time keeps
# its own zone for deciding who is on duty.
STORE_TIME_ZONE = env.str("STORE_TIME_ZONE", default="UTC")
try:
    ZoneInfo(STORE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as error:
    raise ImproperlyConfigured(f"STORE_TIME_ZONE {STORE_TIME_ZONE!r} is no IANA zone.") from error

INSTALLED_APPS = [
    "chatassist",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "staff",
    "assignment",
    "events",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie set_language writes, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatassist.urls"
WSGI_APPLICATION = "chatassist.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_database = DATABASES["default"]
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers queue
    # up (for at most `timeout` seconds) instead of failing half-way with "database is
    # locked"; WAL lets readers go on meanwhile.
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **_database.get("OPTIONS", {}),
    }
elif _database["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: opening one costs more than a whole webhook request.
    _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    # A health check is one more round trip (SELECT 1) at the start of every request: a
    # tenth of a webhook's. Without it, a connection the server dropped (a restart) fails
    # its next request once (the webhook answers 503 with Retry-After) and Django then
    # discards it. docs/BENCHMARKS.md has the numbers.
    _database["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
    _database.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # Server-side binding (a public Django 5.1+ option) lets psycopg prepare each statement
    # on its first run (``prepare_threshold``), so PostgreSQL parses and plans the webhook's
    # and the policy's statements once per connection, and parameters travel as they are
    # instead of quoted into the text. Off for a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    # A statement or a lock wait never outlasts a sender's patience (Standard Webhooks
    # senders give up after about 10 s and retry): past these the webhook answers 503 with
    # Retry-After instead of hanging. 0 turns one off (e.g. for a long migration).
    _timeouts = {
        "statement_timeout": env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=8000),
        "lock_timeout": env.int("DATABASE_LOCK_TIMEOUT_MS", default=3000),
    }
    _database["OPTIONS"].setdefault(
        "options", " ".join(f"-c {name}={value}" for name, value in _timeouts.items())
    )
    _prepared = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
    _database["OPTIONS"].setdefault("server_side_binding", _prepared)
    _database["OPTIONS"].setdefault("prepare_threshold", 1 if _prepared else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = STORE_TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Languages ----------------------------------------------------------------------------
# English and the three languages of the stores that use Chat Assist. Django maps a browser's
# zh-TW / zh-HK to zh-hant and zh-CN / zh-SG to zh-hans itself (its fallbacks for "zh-*").
# Catalogues: locale/<lang>/LC_MESSAGES, compiled by `make messages-check` (README).
LANGUAGES = [
    ("en", "English"),
    ("zh-hant", "繁體中文"),
    ("zh-hans", "简体中文"),
    ("ja", "日本語"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date and time formats, one style per language across the admin and our pages.
FORMAT_MODULE_PATH = ["chatassist.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the manager's choice is remembered for a year

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
LOGIN_URL = "admin:login"

# --- Security ---------------------------------------------------------------------------
# Off by default so the app also answers plain HTTP on a trusted network or behind a proxy
# that terminates TLS; the production block of .env.example turns them on, and
# `manage.py check --deploy` is clean with it.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ----------------------------------------------------------------------------
# One JSON object per line on stderr (chatassist/logging.py): the webhook's line carries
# message_id, session_id, outcome and duration_ms as fields. LOG_FORMAT=plain for reading
# by eye in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT {LOG_FORMAT!r} is neither 'json' nor 'plain'.")
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL {LOG_LEVEL!r} is no logging level.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "chatassist.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes: lockouts (warnings) only, not a line for every login.
        "axes": {"level": "WARNING"},
        # httpx logs a line per request; the events worker logs its own per delivery.
        "httpx": {"level": "WARNING"},
    },
}

# --- Login throttling (django-axes) -----------------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords in a row for one username from one address, that
# username is refused from that address for AXES_COOLOFF_MINUTES (the page says so, with
# status 429), even with the right password; a success resets the count. An operator
# unlocks at once with `manage.py axes_reset_username USERNAME` (or `axes_reset` for all).
# The address is REMOTE_ADDR: behind a proxy on the same host every client shares it, so
# the lockout then works per username (docs/RELIABILITY.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "chatassist/lockout.html"
AXES_ENABLE_ADMIN = False  # the attempt logs stay out of the store's admin; unlock: manage.py

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# Everything from this origin only: no inline script or style anywhere (the reports' chart
# positions are applied by chatassist/static/chatassist/reports.js), no plugins, no framing,
# forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the admin's stylesheets draw a few icons as data: URLs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
