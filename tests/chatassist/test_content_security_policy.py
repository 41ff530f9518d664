"""The Content-Security-Policy header (django-csp, chatassist/settings.py) on every page, as
strict as written: this origin only, no inline script or style, no framing. That the pages
still work under it is tested in the browser (tests/e2e, which fails on any violation)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/",
    "/admin/chat-assistant/",
    "/admin/chat-assistant/automatic-assignment/",
    "/admin/chat-assistant/working-times/new/",
    "/admin/chat-assistant/reports/coverage/",
    "/admin/chat-assistant/reports/next-in-line/",
    "/admin/chat-assistant/reports/fairness/",
    "/admin/assignment/chatsession/",
    "/admin/staff/staff/",
    "/healthz",
]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_strict_policy(manager_client, path):
    response = manager_client.get(path)

    assert response.status_code == 200, path
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'self'"]
    assert "Content-Security-Policy-Report-Only" not in response  # enforced, not reported
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_the_login_page_has_it_before_anyone_logs_in(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_the_webhooks_json_answers_carry_it_too(client):
    response = client.post("/webhooks/messages/", data=b"{}", content_type="application/json")

    assert response.status_code == 401
    assert directives(response["Content-Security-Policy"])["default-src"] == ["'self'"]
