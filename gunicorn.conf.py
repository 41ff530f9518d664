"""gunicorn settings for Chat Assist; gunicorn reads this file from the working directory.

    .venv/bin/gunicorn                      # from the project root, with the .env settings

Every value can be changed from the environment without editing this file:

    GUNICORN_BIND          127.0.0.1:8000  host:port, or unix:/run/chatassist/gunicorn.sock
    WEB_CONCURRENCY        2 x CPUs        worker processes
    GUNICORN_THREADS       1               threads per worker
    GUNICORN_TIMEOUT       30              seconds before a silent worker is restarted
    GUNICORN_MAX_REQUESTS  10000           requests before a worker is replaced (0: never)
    GUNICORN_ACCESS_LOG    false           true: also a JSON line per request on stderr

Why these defaults (measured: docs/BENCHMARKS.md): a webhook request is mostly Python work
(signature, JSON, the ORM) between a few short database round trips, so it is CPU-bound,
and threads of one process would take turns on its interpreter lock; processes use every
core. Two per CPU keep the cores busy while some wait for the database: on a 2-core box 4
workers, 4 requests at once, at most 4 PostgreSQL connections (each worker keeps one for
``CONN_MAX_AGE``): keep ``WEB_CONCURRENCY * GUNICORN_THREADS`` (plus the queue worker and
cron jobs) under the server's ``max_connections``. Every decision about who gets a session
is serialised by one row lock anyway (``assignment/policy.py``), so more concurrency buys
nothing for the webhook. Put a buffering proxy (nginx, a load balancer) in front, as the
README's Deploy section does: a worker then never waits on a slow client.

A worker is replaced after ``max_requests`` (and a random part of a tenth more, so they do
not all restart at once), importing Django anew: at 2,000 that import cost 3-17% of the
machine in the benchmark, at 10,000 it is rare. The application is deliberately not
preloaded in the master: then ``HUP`` (``systemctl reload``) starts workers with the new
code of a release without dropping a request.
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
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM a worker finishes the requests it has (each a short transaction) first.
graceful_timeout = 30
keepalive = 5
# Replace each worker now and then, staggered, so no slow leak can grow for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# No runtime control socket (gunicornc): nothing uses it, and two instances on one machine
# would fight over its default path in $HOME. Signals (HUP, TERM, TTIN/TTOU) still work.
control_socket_disable = True
# No request header may set the WSGI environment's SCRIPT_NAME or PATH_INFO: gunicorn's
# default trusts them from 127.0.0.1 (forwarded_allow_ips), so any local client, or a proxy
# that passes headers through, could send `SCRIPT_NAME: /elsewhere` and get a 500. The app
# is served at the root; such headers are dropped (header_map "drop", gunicorn's default).
forwarder_headers = ""
header_map = "drop"

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
