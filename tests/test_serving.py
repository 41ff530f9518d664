"""Production serving: the JSON logs, `check --deploy` with the production environment of
.env.example, static files through whitenoise with DEBUG off, the gunicorn configuration,
and gunicorn itself answering /healthz and the webhook."""

from __future__ import annotations

import json
import logging
import os
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

from assignment.signatures import WebhookSecret
from chatassist.logging import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The variables of .env.example (a SQLite file instead of PostgreSQL, and a real
    SECRET_KEY: the settings refuse the example's placeholder)."""
    env = {"PATH": os.environ["PATH"]}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return {**env, **overrides}


def manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# --- Logs ----------------------------------------------------------------------------------------


def make_record(**extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "chatassist.test", logging.INFO, __file__, 1, "hello %s", ("x",), None
    )
    record.__dict__.update(extra)
    return record


def test_a_log_line_is_one_json_object_with_the_extra_fields():
    line = JsonFormatter().format(make_record(message_id="m-1", session_id=42, request=object()))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "INFO"
    assert entry["logger"] == "chatassist.test"
    assert entry["message"] == "hello x"
    assert entry["time"].endswith("+00:00")
    assert entry["message_id"] == "m-1" and entry["session_id"] == 42
    assert entry["request"].startswith("<object object at")  # not JSON: written as str()


def test_a_traceback_stays_inside_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = make_record()
        record.exc_info = sys.exc_info()

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_logs_are_json_by_default():
    handler = settings.LOGGING["handlers"]["console"]
    formatter = settings.LOGGING["formatters"][handler["formatter"]]
    assert formatter == {"()": "chatassist.logging.JsonFormatter"}


@pytest.mark.django_db
def test_the_webhook_logs_one_json_line_with_message_session_outcome_and_duration(
    post_message, auto_assign_on, caplog
):
    caplog.set_level(logging.INFO, logger="chatassist.webhook")

    response = post_message({"message_id": "m-1", "customer_id": "c-1", "text": "Hi"})

    assert response.status_code == 201
    [record] = [r for r in caplog.records if r.name == "chatassist.webhook"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message_id"] == "m-1"
    assert entry["session_id"] == response.json()["session"]["id"]
    assert entry["outcome"] == "assigned"
    assert entry["status"] == 201
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["message"].startswith("webhook status=201 message_id=m-1 ")


@pytest.mark.django_db
def test_a_refused_delivery_logs_nulls_for_what_it_does_not_know(client, caplog):
    caplog.set_level(logging.INFO, logger="chatassist.webhook")

    assert (
        client.post("/webhooks/messages/", data=b"{}", content_type="application/json").status_code
        == 401
    )

    [record] = [r for r in caplog.records if r.name == "chatassist.webhook"]
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["status"], entry["message_id"], entry["session_id"], entry["outcome"]) == (
        401,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT 'xml' is neither 'json' nor 'plain'."),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL 'LOUD' is no logging level."),
    ],
)
def test_a_bad_log_setting_stops_the_app_with_a_clear_message(tmp_path, variables, problem):
    result = manage("check", env=production_env(tmp_path, **variables))

    assert result.returncode == 1
    assert problem in result.stderr


# --- check --deploy ------------------------------------------------------------------------------


def test_check_deploy_passes_with_the_production_environment_of_env_example(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_the_environment_is_not_production(tmp_path):
    env = production_env(tmp_path, DEBUG="true", SECURE_SSL_REDIRECT="false")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 1
    assert "security.W018" in result.stderr and "security.W008" in result.stderr


# --- Static files --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_collectstatic_with_debug_off_serves_hashed_files_through_whitenoise(tmp_path):
    manifest_storage = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path, STORAGES=manifest_storage):
        call_command("collectstatic", "--noinput", verbosity=0)
        url = static("admin/css/base.css")
        response = Client().get(url)  # a new client: whitenoise reads STATIC_ROOT at start

        assert (tmp_path / "staticfiles.json").exists()
        assert url.startswith("/static/admin/css/base.") and url != "/static/admin/css/base.css"
        assert response.status_code == 200
        assert "immutable" in response["Cache-Control"]
        compressed = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert compressed["Content-Encoding"] == "gzip"


# --- /healthz behind the HTTPS redirect ---------------------------------------------------------


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_answers_plain_http_when_everything_else_redirects_to_https(client):
    assert client.get("/healthz").status_code == 200
    redirect = client.get("/admin/")
    assert redirect.status_code == 301
    assert redirect["Location"].startswith("https://")


# --- gunicorn -------------------------------------------------------------------------------------


def gunicorn_config(monkeypatch, **variables) -> dict:
    names = (
        "GUNICORN_BIND",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_ACCESS_LOG",
    )
    for name in (*names, "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults_are_two_single_threaded_workers_per_cpu(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    conf = gunicorn_config(monkeypatch)

    assert conf["wsgi_app"] == "chatassist.wsgi:application"
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (4, 1, "gthread")
    assert "preload_app" not in conf  # HUP (systemctl reload) must load a release's code
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (10_000, 1_000)
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["level"] == "WARNING"  # off
    assert conf["logconfig_dict"]["handlers"]["stderr"]["formatter"] == "json"


def test_gunicorn_reads_bind_workers_threads_and_access_log_from_the_environment(monkeypatch):
    conf = gunicorn_config(
        monkeypatch,
        GUNICORN_BIND="unix:/run/chatassist/gunicorn.sock",
        WEB_CONCURRENCY="5",
        GUNICORN_THREADS="8",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_ACCESS_LOG="true",
        LOG_FORMAT="plain",
    )

    assert conf["bind"] == ["unix:/run/chatassist/gunicorn.sock"]
    assert (conf["workers"], conf["threads"]) == (5, 8)
    assert conf["max_requests"] == 0  # never replaced
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["level"] == "INFO"
    assert conf["logconfig_dict"]["handlers"]["stderr"]["formatter"] == "plain"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(url: str, *, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_gunicorn_serves_healthz_and_the_webhook_with_json_logs(tmp_path):
    """The production environment of .env.example, behind a proxy that sets
    X-Forwarded-Proto: gunicorn with this repository's configuration file."""
    port = free_port()
    env = production_env(
        tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", GUNICORN_THREADS="2"
    )
    assert manage("migrate", "--noinput", env=env, timeout=120).returncode == 0
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn")], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base, host = f"http://127.0.0.1:{port}", {"Host": "chat.example.com"}
    try:
        for _ in range(100):
            try:
                status, _, body = http(f"{base}/healthz", headers=host)
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        # /healthz answers plain HTTP (a load balancer's probe); the rest goes to HTTPS.
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "up"})
        assert http(f"{base}/admin/", headers=host)[0] == 301

        body = json.dumps({"message_id": "m-gunicorn", "customer_id": "c-1"}).encode()
        secret = WebhookSecret.parse(env["WEBHOOK_SECRET"])
        timestamp = int(time.time())
        signed = {
            **host,
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
            "webhook-id": "evt-1",
            "webhook-timestamp": str(timestamp),
            "webhook-signature": secret.sign(msg_id="evt-1", timestamp=timestamp, body=body),
        }
        status, _, answer = http(f"{base}/webhooks/messages/", data=body, headers=signed)
        assert status == 201, answer
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()

    lines = json_lines(output)
    assert any(
        line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines
    )
    [webhook] = [line for line in lines if line["logger"] == "chatassist.webhook"]
    assert webhook["message_id"] == "m-gunicorn"
    assert webhook["outcome"] == "manual" and webhook["status"] == 201


def test_the_app_refuses_the_placeholder_secret_key_of_env_example(tmp_path):
    env = production_env(tmp_path)
    env["SECRET_KEY"] = next(
        line.partition("=")[2]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("SECRET_KEY=")
    )

    result = manage("check", env=env)

    assert result.returncode == 1
    assert "SECRET_KEY is still the placeholder from .env.example." in result.stderr
