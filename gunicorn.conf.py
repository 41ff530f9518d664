"""gunicorn settings for Chat Assist; gunicorn reads this file from the working directory.

    .venv/bin/gunicorn                      # from the project root, with the .env settings

Every value can be changed from the environment without editing this file:

    GUNICORN_BIND        127.0.0.1:8000  host:port, or unix:/run/chatassist/gunicorn.sock
    WEB_CONCURRENCY      3               worker processes
    GUNICORN_THREADS     4               threads per worker
    GUNICORN_TIMEOUT     30              seconds before a silent worker is restarted
    GUNICORN_ACCESS_LOG  false           true: also a JSON line per request on stderr

The defaults suit a 2-core box. A request spends most of its time waiting for the database,
so threads overlap those waits cheaply; a few processes use both cores and survive one
another's crashes. 3 workers x 4 threads = 12 requests at once, and at most 12 PostgreSQL
connections (each thread keeps one for ``CONN_MAX_AGE``): keep
``WEB_CONCURRENCY * GUNICORN_THREADS`` (plus the worker and cron jobs) under the server's
``max_connections``. Every decision about who gets a session is serialised by one row lock
anyway (see ``assignment/policy.py``), so more concurrency buys little for the webhook.
"""

import os
from pathlib import Path

import environ

# The same .env as the settings, if there is one (variables in the environment win).
_dotenv = Path(__file__).resolve().parent / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv)

wsgi_app = "chatassist.wsgi:application"

bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM a worker finishes the requests it has (each a short transaction) first.
graceful_timeout = 30
keepalive = 5
# Replace each worker now and then, staggered, so no slow leak can grow for weeks.
max_requests = 2000
max_requests_jitter = 200
# No runtime control socket (gunicornc): nothing uses it, and two instances on one machine
# would fight over its default path in $HOME. Signals (HUP, TERM, TTIN/TTOU) still work.
control_socket_disable = True

# Logs: gunicorn's own lines on stderr in the application's format (chatassist/logging.py).
# No access log by default: the webhook logs one structured line per delivery already, and
# the proxy in front usually keeps its own access log.
_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "false").lower() in ("1", "true", "yes", "on")
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "chatassist.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            # LOG_FORMAT=plain (development) as in the settings; anything else: JSON.
            "formatter": "plain" if os.environ.get("LOG_FORMAT") == "plain" else "json",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},  # until Django's LOGGING takes over
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {
            "level": "INFO" if _access_log else "WARNING",
            "handlers": ["stderr"],
            "propagate": False,
        },
    },
}
